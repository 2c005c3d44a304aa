// Checks a plugin's info struct against this host's ABI: size, version,
// manifest. Shared by the in-process loader and the isolated worker so both
// refuse exactly the same plugins with the same words. Internal to
// plugins/host.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_INFO_CHECK_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_INFO_CHECK_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "achilles/plugin_abi.h"

namespace achilles::plugins_internal {

struct Manifest {
  std::string id;
  std::string version;
  std::string display_name;
  std::string abi_version;  // "major.minor" as built.
  std::vector<std::string> protocols;
  std::vector<std::string> event_kinds;
};

// FAILED_PRECONDITION with the reason when the plugin must be refused
// (including an id reserved for the engine: safety, engine, data, achilles*);
// on success fills `out`. `abi_version` is filled even on failure when known.
absl::Status CheckInfo(const ach_type_plugin_info* info, Manifest* out);

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_INFO_CHECK_H_
