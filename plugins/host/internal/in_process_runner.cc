#include "plugins/host/internal/in_process_runner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace achilles::plugins_internal {

namespace {
constexpr char kQuarantined[] =
    "is quarantined: an earlier call is still running past its deadline";
}  // namespace

struct InProcessRunner::CallState {
  std::shared_ptr<const std::string> request;
  absl::Mutex mu;
  bool started ABSL_GUARDED_BY(mu) = false;
  bool done ABSL_GUARDED_BY(mu) = false;
  // The caller stopped waiting: before the call started (it never will), or
  // while it ran (its thread is given up to it).
  bool abandoned ABSL_GUARDED_BY(mu) = false;
  bool refused = false;  // Not run: the plugin was quarantined meanwhile.
  PluginReply reply;
};

// What the caller holds while the call runs.
class InProcessRunner::Call final : public PendingCall {
 public:
  Call(std::shared_ptr<InProcessRunner> runner,
       std::shared_ptr<CallState> state, const CallDeadline& deadline)
      : runner_(std::move(runner)),
        state_(std::move(state)),
        deadline_(deadline) {}

  absl::Status Wait() override;
  int rc() const override { return state_->reply.rc; }
  absl::string_view error() const override { return state_->reply.error; }
  absl::string_view response() const override {
    return state_->reply.response.view();
  }

 private:
  std::shared_ptr<InProcessRunner> runner_;
  std::shared_ptr<CallState> state_;
  const CallDeadline deadline_;
};

InProcessRunner::InProcessRunner(std::unique_ptr<const PluginCode> library,
                                 int max_threads)
    // Messages get the plugin's name in front ("plugin x cannot start a
    // thread for its calls: ...").
    : library_(std::move(library)), threads_("its calls", max_threads) {}

absl::StatusOr<std::unique_ptr<PendingCall>> InProcessRunner::Start(
    std::shared_ptr<const std::string> request, const CallDeadline& deadline) {
  if (quarantined()) return absl::UnavailableError(kQuarantined);
  auto state = std::make_shared<CallState>();
  state->request = std::move(request);
  // The task holds the runner (and so the library) and the state: a call
  // abandoned at its deadline never touches freed memory or unmapped code.
  std::shared_ptr<InProcessRunner> self = shared_from_this();
  absl::Status queued =
      threads_.Submit([self, state] { return self->Run(state.get()); });
  // A refused thread is RESOURCE_EXHAUSTED for this call, not an abort.
  if (!queued.ok()) return queued;
  return std::make_unique<Call>(std::move(self), std::move(state), deadline);
}

bool InProcessRunner::Run(CallState* call) const {
  {
    absl::MutexLock lock(&call->mu);
    if (call->abandoned) return true;  // Its caller gave up while it queued.
    call->started = true;
  }
  // A call that queued behind one that then got stuck must not run either.
  if (quarantined()) {
    call->refused = true;
  } else {
    library_->Evaluate(*call->request, &call->reply);
  }
  absl::MutexLock lock(&call->mu);
  call->done = true;
  if (!call->abandoned) return true;
  stuck_calls_.fetch_sub(1);
  return false;
}

absl::Status InProcessRunner::Call::Wait() {
  CallState& s = *state_;
  {
    absl::MutexLock lock(&s.mu);
    if (s.mu.AwaitWithDeadline(absl::Condition(&s.done), deadline_.at)) {
      return s.refused ? absl::UnavailableError(kQuarantined)
                       : absl::OkStatus();
    }
    s.abandoned = true;
    if (!s.started) {
      return absl::DeadlineExceededError(absl::StrCat(
          "was not started within ", absl::FormatDuration(deadline_.timeout),
          ": all its call threads were busy"));
    }
    runner_->stuck_calls_.fetch_add(1);
  }
  runner_->threads_.ReleaseStuckThread();
  return absl::DeadlineExceededError(absl::StrCat(
      "did not answer within ", absl::FormatDuration(deadline_.timeout)));
}

}  // namespace achilles::plugins_internal
