// Runs an in-process plugin's calls on its call threads (call_threads.h),
// with the deadline and quarantine plugin_host.h promises. Internal to
// plugins/host.
//
// A call past its deadline is abandoned, not stopped (nothing can stop a
// thread in plugin code): the caller gets DEADLINE_EXCEEDED, the plugin is
// quarantined (UNAVAILABLE) until that call returns, and the thread is
// given up to it and replaced. Each call holds the runner, and so the
// library, and its own reference to the request: an abandoned call never
// runs unmapped code or reads freed bytes.
//
// Thread-safety: Start may be called from any thread at once.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_IN_PROCESS_RUNNER_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_IN_PROCESS_RUNNER_H_

#include <atomic>
#include <memory>
#include <string>

#include "plugins/host/internal/call_threads.h"
#include "plugins/host/internal/plugin_code.h"
#include "plugins/host/internal/plugin_library.h"
#include "plugins/host/internal/plugin_runner.h"

namespace achilles::plugins_internal {

class InProcessRunner final
    : public PluginRunner,
      public std::enable_shared_from_this<InProcessRunner> {
 public:
  // At most `max_threads` calls run at once; more wait for a thread.
  // `library` is a .so or a protocol file (plugin_code.h).
  InProcessRunner(std::unique_ptr<const PluginCode> library, int max_threads);

  absl::StatusOr<std::unique_ptr<PendingCall>> Start(
      std::shared_ptr<const std::string> request,
      const CallDeadline& deadline) override;

  // Threads counting against the bound (for tests).
  int LiveThreads() const { return threads_.LiveThreads(); }

 private:
  class Call;
  struct CallState;
  // Runs one handed-over call on a call thread; false when its thread was
  // given up while it ran.
  bool Run(CallState* call) const;
  bool quarantined() const { return stuck_calls_.load() > 0; }

  const std::unique_ptr<const PluginCode> library_;
  // Calls abandoned at their deadline and still running.
  mutable std::atomic<int> stuck_calls_{0};
  CallThreads threads_;
};

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_IN_PROCESS_RUNNER_H_
