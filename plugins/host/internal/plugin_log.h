// The log callback the host hands a plugin's on_init (ABI 1.1,
// ach_type_callback_log): a plugin's line reaches the server's log as
// "plugin <id>: <message>", in the server and in an isolated worker alike
// (the worker's stderr is the server's). Internal to plugins/host.
//
// A plugin cannot be trusted to keep the log readable or small: control
// characters become spaces (no forged lines), a message is cut to
// ACH_MAX_LOG_LEN bytes, and at most kLinesPerSecond lines a second pass;
// the next line that passes says how many were dropped. Nothing here can
// tell a patient identifier from other text: plugin_abi.h forbids logging
// one.
//
// Thread-safety: Write may be called from any thread.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_LOG_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_LOG_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "achilles/plugin_abi.h"

namespace achilles::plugins_internal {

class PluginLog {
 public:
  static constexpr int kLinesPerSecond = 20;

  explicit PluginLog(std::string plugin_id)
      : plugin_id_(std::move(plugin_id)) {}

  // Logs `message` (`size` bytes, not necessarily NUL-terminated) at
  // `level` (ACH_LOG_*; anything else counts as ACH_LOG_ERROR).
  void Write(int32_t level, const char* message, size_t size);

  // The ach_type_callback_log to hand a plugin, with `this` as host_ptr.
  static void Callback(void* host_ptr, int32_t level, const char* message,
                       size_t size);

 private:
  // Whether a line may pass now; sets `*dropped` to the lines dropped since
  // the last one that passed.
  bool Admit(int* dropped);

  const std::string plugin_id_;
  absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int lines_in_window_ ABSL_GUARDED_BY(mu_) = 0;
  int dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

// The text a plugin's message becomes: cut to ACH_MAX_LOG_LEN bytes,
// control characters replaced by spaces. Exposed for tests.
std::string SanitizeLogMessage(const char* message, size_t size);

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_LOG_H_
