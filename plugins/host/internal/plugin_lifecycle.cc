#include "plugins/host/internal/plugin_lifecycle.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace achilles::plugins_internal {

PluginLifecycle::PluginLifecycle(const ach_type_plugin_info& entry,
                                 std::string plugin_id)
    : entry_(entry), log_(std::move(plugin_id)) {
  callbacks_.struct_size = sizeof(callbacks_);
  callbacks_.reserved = 0;
  callbacks_.host_ptr = &log_;
  callbacks_.log = &PluginLog::Callback;
}

absl::Status PluginLifecycle::Init() {
  if (entry_.on_init == nullptr) return absl::OkStatus();
  char error[ACH_MAX_ERROR_LEN] = {0};
  void* context = nullptr;
  const ach_type_rc rc =
      entry_.on_init(&callbacks_, &context, error, sizeof error);
  error[sizeof error - 1] = '\0';
  if (rc != ACH_RC_OK) {
    // Raw bytes from the plugin, bound for a proto3 string (its load
    // reason in ListPlugins, or a worker's hello).
    return absl::FailedPreconditionError(
        absl::StrCat("on_init refused: ",
                     error[0] != '\0' ? ToValidUtf8(error) : "(no message)"));
  }
  context_ = context;
  initialized_ = true;
  return absl::OkStatus();
}

void PluginLifecycle::Shutdown() {
  if (!initialized_ || shut_down_) return;
  shut_down_ = true;
  entry_.on_shutdown(context_);
}

ach_type_rc PluginLifecycle::Evaluate(const uint8_t* request,
                                      size_t request_size, uint8_t** response,
                                      size_t* response_size, char* error,
                                      size_t error_capacity) const {
  if (entry_.on_evaluate_with_context != nullptr) {
    return entry_.on_evaluate_with_context(context_, request, request_size,
                                           response, response_size, error,
                                           error_capacity);
  }
  return entry_.on_evaluate(request, request_size, response, response_size,
                            error, error_capacity);
}

}  // namespace achilles::plugins_internal
