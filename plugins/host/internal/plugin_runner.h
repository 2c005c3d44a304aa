// How a loaded plugin is run: in the server on call threads
// (in_process_runner.h) or in worker processes (worker_process.h), behind
// one interface, so a call and a batch of calls are the same code for
// both. A call is started (handed over) and then waited for, so a batch
// hands every call over before it waits for any. Internal to plugins/host.
//
// Thread-safety: Start may be called from any thread at once; a
// PendingCall belongs to the thread that started it.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_RUNNER_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_RUNNER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace achilles::plugins_internal {

// When a call must have answered, and the budget that came from (for
// messages).
struct CallDeadline {
  absl::Time at;
  absl::Duration timeout;
};

// A call handed over to its plugin.
class PendingCall {
 public:
  virtual ~PendingCall() = default;
  // Waits for the answer, at most until the deadline the call was started
  // with. OK: the plugin answered; rc(), error() and response() say what,
  // valid until this object goes. Otherwise DEADLINE_EXCEEDED, UNAVAILABLE,
  // RESOURCE_EXHAUSTED or INTERNAL (a worker that crashed or sent garbage),
  // the message starting with what happened ("did not answer within ...").
  // Call once.
  virtual absl::Status Wait() = 0;
  virtual int rc() const = 0;
  virtual absl::string_view error() const = 0;
  virtual absl::string_view response() const = 0;
};

class PluginRunner {
 public:
  virtual ~PluginRunner() = default;
  // Hands `request` to the plugin and returns without waiting for its
  // answer. Errors as PendingCall::Wait, for calls that cannot be handed
  // over (quarantined, no thread, no worker before the deadline).
  virtual absl::StatusOr<std::unique_ptr<PendingCall>> Start(
      std::shared_ptr<const std::string> request,
      const CallDeadline& deadline) = 0;
};

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_RUNNER_H_
