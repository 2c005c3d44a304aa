// Checks a plugin's info struct against this host's ABI: size, version,
// manifest. Shared by the in-process loader and the isolated worker so both
// refuse exactly the same plugins with the same words. Internal to
// plugins/host.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_INFO_CHECK_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_INFO_CHECK_H_

#include "absl/status/status.h"
#include "achilles/plugin_abi.h"
#include "plugins/host/plugin_host.h"

namespace achilles::plugins_internal {

// FAILED_PRECONDITION with the reason when the plugin must be refused
// (including an id reserved for the engine: safety, engine, data, achilles*,
// and, from ABI 1.1, an event kind that is not one; a struct smaller than
// ABI 1.0's; a non-zero `reserved`); on success fills `out`.
// `abi_version` is filled even on failure when known. `entry`, when given,
// receives the struct as far as the plugin's struct_size and ABI minor
// reach, every later field zero: the only copy the host calls through.
absl::Status CheckInfo(const ach_type_plugin_info* info,
                       plugins::PluginManifest* out,
                       ach_type_plugin_info* entry = nullptr);

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_INFO_CHECK_H_
