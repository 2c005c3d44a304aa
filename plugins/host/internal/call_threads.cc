#include "plugins/host/internal/call_threads.h"

#include <deque>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/thread_util.h"

namespace achilles::plugins_internal {

struct CallThreads::State {
  absl::Mutex mu;
  std::deque<Task> queue ABSL_GUARDED_BY(mu);
  int live ABSL_GUARDED_BY(mu) = 0;     // Counting against the bound.
  int waiting ABSL_GUARDED_BY(mu) = 0;  // Of those, idle.
  bool closing ABSL_GUARDED_BY(mu) = false;

  bool WorkOrClosing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return !queue.empty() || closing;
  }
};

void CallThreads::Serve(const std::shared_ptr<State>& state) {
  State& s = *state;
  for (;;) {
    Task task;
    {
      absl::MutexLock lock(&s.mu);
      ++s.waiting;
      s.mu.Await(absl::Condition(&s, &State::WorkOrClosing));
      --s.waiting;
      if (s.queue.empty()) {  // Closing.
        --s.live;
        return;
      }
      task = std::move(s.queue.front());
      s.queue.pop_front();
    }
    const bool keep = task();
    // Outside the lock: the task may hold the last reference to this
    // pool's owner, whose destructor takes it.
    task = nullptr;
    if (!keep) return;  // Given up while stuck; a replacement took its place.
  }
}

CallThreads::CallThreads(std::string name, int max_threads)
    : name_(std::move(name)),
      max_threads_(max_threads < 1 ? 1 : max_threads),
      state_(std::make_shared<State>()) {}

CallThreads::~CallThreads() {
  absl::MutexLock lock(&state_->mu);
  state_->closing = true;
}

absl::Status CallThreads::StartThread() {
  auto thread =
      achilles::StartThread(name_, [state = state_] { Serve(state); });
  if (!thread.ok()) {
    absl::MutexLock lock(&state_->mu);
    --state_->live;
    return thread.status();
  }
  thread->detach();
  return absl::OkStatus();
}

absl::Status CallThreads::Submit(Task task) {
  bool start = false;
  {
    absl::MutexLock lock(&state_->mu);
    // Reserve a thread's place before queueing, so a refusal queues nothing.
    if (static_cast<int>(state_->queue.size()) >= state_->waiting &&
        state_->live < max_threads_) {
      ++state_->live;
      start = true;
    }
  }
  if (start) {
    if (absl::Status st = StartThread(); !st.ok()) return st;
  }
  absl::MutexLock lock(&state_->mu);
  state_->queue.push_back(std::move(task));
  return absl::OkStatus();
}

void CallThreads::ReleaseStuckThread() {
  bool start = false;
  {
    absl::MutexLock lock(&state_->mu);
    --state_->live;
    if (static_cast<int>(state_->queue.size()) > state_->waiting &&
        state_->live < max_threads_) {
      ++state_->live;
      start = true;
    }
  }
  if (start) StartThread().IgnoreError();
}

int CallThreads::LiveThreads() const {
  absl::MutexLock lock(&state_->mu);
  return state_->live;
}

}  // namespace achilles::plugins_internal
