// A plugin's optional lifecycle (ABI 1.1, plugin_abi.h "Lifecycle"): the
// host callbacks handed to on_init, the context it returns, on_shutdown,
// and the entry points every call goes through. Internal to plugins/host.
//
// Shared (shared_ptr) by the library and by whatever runs init and shutdown
// for it: in the server that is the loader thread (loader.h), whose queue is
// serial, so a shutdown queued by an unload always runs after the init it
// follows, even one that outlived its deadline. In a worker both run on the
// main thread.
//
// Thread-safety: Init and Shutdown on one thread (see above); Evaluate from
// any thread once Init has returned OK and before Shutdown.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_LIFECYCLE_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_LIFECYCLE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "achilles/plugin_abi.h"
#include "plugins/host/internal/plugin_log.h"

namespace achilles::plugins_internal {

class PluginLifecycle {
 public:
  // `entry`: the checked info struct (info_check.h), absent fields zero.
  PluginLifecycle(const ach_type_plugin_info& entry, std::string plugin_id);
  PluginLifecycle(const PluginLifecycle&) = delete;
  PluginLifecycle& operator=(const PluginLifecycle&) = delete;

  // Calls on_init when the plugin has one (OK when not).
  // FAILED_PRECONDITION "on_init refused: <the plugin's reason>".
  absl::Status Init();
  // Calls on_shutdown once, and only after an Init that succeeded.
  void Shutdown();

  // on_evaluate_with_context with the context, or on_evaluate.
  ach_type_rc Evaluate(const uint8_t* request, size_t request_size,
                       uint8_t** response, size_t* response_size, char* error,
                       size_t error_capacity) const;
  void Free(uint8_t* buffer) const { entry_.on_free(buffer); }

 private:
  const ach_type_plugin_info entry_;
  PluginLog log_;
  ach_type_host_callbacks callbacks_{};
  void* context_ = nullptr;
  bool initialized_ = false;
  bool shut_down_ = false;
};

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_LIFECYCLE_H_
