// What a runner calls: code that answers one serialized PluginRequest with
// a PluginReply. A plugin library (.so, plugin_library.h) and a protocol
// file (protocol_library.h) are both PluginCode, so the in-process runner
// and achilles-plugin-worker run either the same way. Internal to
// plugins/host.
//
// Thread-safety: Evaluate may run on several threads at once.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_CODE_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_CODE_H_

#include "absl/strings/string_view.h"

namespace achilles::plugins_internal {

struct PluginReply;  // plugin_library.h

class PluginCode {
 public:
  virtual ~PluginCode() = default;
  // Answers `request` into `out` (reusing its buffer); never throws.
  virtual void Evaluate(absl::string_view request, PluginReply* out) const = 0;
};

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_CODE_H_
