#include "services/server/internal/config_file.h"

#include <yaml-cpp/yaml.h>

#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace achilles::server_internal {
namespace {

// Flags that act on the command line itself, not on the server.
const std::set<std::string>& CommandLineOnly() {
  static const auto* keys = new std::set<std::string>{
      "config",    "check_config", "version",    "help",      "helpfull",
      "helpshort", "helppackage",  "helpon",     "helpmatch", "only_check_args",
      "flagfile",  "fromenv",      "tryfromenv", "undefok"};
  return *keys;
}

std::string Where(const std::string& path, const YAML::Mark& mark) {
  return absl::StrCat(path, ":", mark.line + 1);
}

// The flag's text for a YAML value: a scalar as written, a list of
// scalars joined with commas; false for anything else.
bool FlagText(const YAML::Node& value, std::string* out) {
  if (value.IsScalar()) {
    *out = value.Scalar();
    return true;
  }
  if (value.IsNull()) {
    out->clear();
    return true;
  }
  if (!value.IsSequence()) return false;
  std::vector<std::string> items;
  for (const YAML::Node& item : value) {
    if (!item.IsScalar()) return false;
    items.push_back(item.Scalar());
  }
  *out = absl::StrJoin(items, ",");
  return true;
}

absl::Status ApplyKey(const std::string& path, const YAML::Node& key,
                      const YAML::Node& value) {
  const std::string name = key.Scalar();
  const std::string at = Where(path, key.Mark());
  if (CommandLineOnly().count(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        at, ": key '", name, "' can only be given on the command line"));
  }
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        at, ": unknown key '", name,
        "' (keys are the server's flag names; achilles-server --helpfull "
        "lists them)"));
  }
  std::string text;
  if (!FlagText(value, &text)) {
    return absl::InvalidArgumentError(absl::StrCat(
        at, ": key '", name, "' needs a value or a list of values"));
  }
  std::string error;
  if (!flag->ParseFrom(text, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ": key '", name, "': ", error));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ConfigPathFromArgs(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    for (const char* prefix : {"--config=", "-config="}) {
      if (arg.rfind(prefix, 0) == 0) return arg.substr(std::strlen(prefix));
    }
    if ((arg == "--config" || arg == "-config") && i + 1 < argc) {
      return argv[i + 1];
    }
  }
  return "";
}

absl::Status ApplyConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("--config: cannot read ", path,
                                            ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  // yaml-cpp reports errors by exception; none leaves this function.
  try {
    const YAML::Node root = YAML::Load(text.str());
    if (root.IsNull()) return absl::OkStatus();  // An empty file.
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": must be a mapping of keys (flag names) to values"));
    }
    std::set<std::string> seen;
    for (const auto& entry : root) {
      if (!seen.insert(entry.first.Scalar()).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(path, entry.first.Mark()), ": key '",
                         entry.first.Scalar(), "' is given twice"));
      }
      if (absl::Status st = ApplyKey(path, entry.first, entry.second);
          !st.ok()) {
        return st;
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(path, e.mark), ": not valid YAML: ", e.msg));
  }
  return absl::OkStatus();
}

}  // namespace achilles::server_internal
