// A protocol file (plugins/protocol_file) behind the same seam as a plugin
// library: opened and checked once, then Evaluate(request bytes) gives a
// PluginReply exactly as a .so's on_evaluate would, in the server or in
// achilles-plugin-worker. Internal to plugins/host.
//
// Thread-safety: Evaluate may run on several threads at once.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_PROTOCOL_LIBRARY_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_PROTOCOL_LIBRARY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "plugins/host/internal/plugin_code.h"
#include "plugins/host/internal/plugin_library.h"
#include "plugins/host/plugin_host.h"
#include "plugins/protocol_file/protocol_file.h"

namespace achilles::plugins_internal {

// Whether `path` names a protocol file (…/NAME.protocol.yaml).
bool IsProtocolFile(absl::string_view path);

class ProtocolLibrary final : public PluginCode {
 public:
  // Reads and checks the protocol file at `path`, named `name` in
  // messages. FAILED_PRECONDITION "NAME:LINE:COLUMN: reason" when it is
  // refused. Fills `manifest` from its metadata (abi_version "protocol-1",
  // even on refusal).
  static absl::StatusOr<std::unique_ptr<ProtocolLibrary>> Open(
      const std::string& path, const std::string& name,
      plugins::PluginManifest* manifest);

  // Bytes that are not a PluginRequest: ACH_RC_BAD_REQUEST. A rule's
  // error, an exhausted instruction budget or memory limit:
  // ACH_RC_PLUGIN_ERROR with the reason (at most ACH_MAX_ERROR_LEN - 1
  // bytes, as from a .so). Otherwise the response, deterministically
  // serialized.
  void Evaluate(absl::string_view request, PluginReply* out) const override;

 private:
  explicit ProtocolLibrary(std::unique_ptr<protocol_file::Protocol> protocol)
      : protocol_(std::move(protocol)) {}
  std::unique_ptr<protocol_file::Protocol> protocol_;
};

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_PROTOCOL_LIBRARY_H_
