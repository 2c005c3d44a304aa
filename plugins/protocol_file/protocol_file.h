// Protocol files: a clinic's protocol as a YAML text file
// (NAME.protocol.yaml) instead of a C++ plugin. The file names its
// metadata (id, version, display name, protocols, event kinds, sources with
// citations) and its rules: a condition and a recommendation with rationale
// templates, data gaps and contraindications. Conditions and template
// values are Lua 5.4 expressions run in a locked-down state: no I/O, no
// clock, no pairs(), a bounded instruction count and memory per call.
// docs/PROTOCOL_FILES.md is the format's reference.
//
//   auto protocol = protocol_file::Protocol::Parse(text, "visa.protocol.yaml");
//   if (!protocol.ok()) ...  // "visa.protocol.yaml:12:7: unknown feature ..."
//   auto response = (*protocol)->Evaluate(request);
//
// Loading checks everything that can be checked without a request: the
// YAML shape, every field name, metadata values, severities and categories,
// prescription fields, Lua syntax, and every `features.x.y` / `policy.x`
// name against the proto descriptors. A load error is INVALID_ARGUMENT
// whose message starts "FILE:LINE:COLUMN: " (1-based) and gives the reason.
//
// Evaluate answers what a C++ plugin's on_evaluate would: a PluginResponse
// whose candidates carry everything the host requires (summary, severity,
// category, rationale with rule id, observations and sources). A Lua error,
// an exhausted instruction budget or memory limit is that call's error
// (INTERNAL, naming FILE:LINE where it can); the Protocol stays usable.
//
// Thread-safety: a Protocol is immutable after Parse; Evaluate may run on
// several threads at once (each call has its own Lua state, so nothing
// carries over from one call to the next).
#ifndef ACHILLES_PLUGINS_PROTOCOL_FILE_PROTOCOL_FILE_H_
#define ACHILLES_PLUGINS_PROTOCOL_FILE_PROTOCOL_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "achilles/v1/plugin.pb.h"

namespace achilles::protocol_file {

// File names the host treats as protocol files.
inline constexpr char kProtocolFileSuffix[] = ".protocol.yaml";
// What ListPlugins reports as a protocol file's ABI version.
inline constexpr char kProtocolAbiVersion[] = "protocol-1";

// Bounds on one file and on one Evaluate call.
struct Limits {
  size_t max_file_bytes = 256 * 1024;
  // Lua VM instructions per Evaluate call, over every expression of it.
  int64_t instruction_budget = 5'000'000;
  // Bytes the call's Lua state may hold at once.
  size_t memory_bytes = 32 * 1024 * 1024;
};

struct Source {
  std::string key;       // docs/clinical/SOURCES.md key, e.g. "S4".
  std::string citation;  // The full citation.
};

struct Metadata {
  std::string id;
  std::string version;  // MAJOR.MINOR.PATCH
  std::string display_name;
  std::vector<std::string> protocols;
  std::vector<std::string> event_kinds;  // Event kind names, or empty = all.
  std::vector<Source> sources;
};

struct ParsedProtocol;  // The typed rules (internal/model.h).

class Protocol {
 public:
  // Parses and checks `text`, named `file_name` in messages.
  // INVALID_ARGUMENT "FILE:LINE:COLUMN: reason" when it is refused.
  static absl::StatusOr<std::unique_ptr<Protocol>> Parse(
      absl::string_view text, const std::string& file_name,
      const Limits& limits = Limits());
  // Reads `path` (at most limits.max_file_bytes) and parses it, named
  // `file_name` in messages. NOT_FOUND when it cannot be read.
  static absl::StatusOr<std::unique_ptr<Protocol>> Load(
      const std::string& path, const std::string& file_name,
      const Limits& limits = Limits());
  ~Protocol();
  Protocol(const Protocol&) = delete;
  Protocol& operator=(const Protocol&) = delete;

  const Metadata& metadata() const;

  // Runs the rules on `request`. INTERNAL naming the rule and the file
  // position on a Lua error, an exhausted budget or memory limit.
  absl::StatusOr<achilles::v1::PluginResponse> Evaluate(
      const achilles::v1::PluginRequest& request) const;

 private:
  explicit Protocol(std::unique_ptr<const ParsedProtocol> parsed);
  std::unique_ptr<const ParsedProtocol> parsed_;
};

}  // namespace achilles::protocol_file

#endif  // ACHILLES_PLUGINS_PROTOCOL_FILE_PROTOCOL_FILE_H_
