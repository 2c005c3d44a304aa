#include "common/executor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/thread_util.h"

namespace achilles {

absl::StatusOr<std::unique_ptr<Executor>> Executor::Start(Options options) {
  if (options.threads < 1 || options.max_queued < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.name,
                     ": needs at least one thread and a queue "
                     "of at least one task"));
  }
  std::unique_ptr<Executor> ex(new Executor(std::move(options)));
  for (int i = 0; i < ex->options_.threads; ++i) {
    auto t = StartThread(ex->options_.name, [e = ex.get()] { e->Loop(); });
    if (!t.ok()) {
      ex->Shutdown();  // Joins the threads already running.
      return t.status();
    }
    ex->threads_.push_back(*std::move(t));
  }
  return ex;
}

Executor::~Executor() { Shutdown(); }

bool Executor::TrySubmit(absl::AnyInvocable<void() &&> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= options_.max_queued) return false;
  queue_.push_back(std::move(task));
  work_.Signal();
  return true;
}

void Executor::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    work_.SignalAll();
  }
  // One caller joins; a concurrent or repeated call waits for it.
  absl::MutexLock join_lock(&join_mu_);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

size_t Executor::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void Executor::Loop() {
  for (;;) {
    absl::AnyInvocable<void() &&> task;
    {
      absl::MutexLock lock(&mu_);
      // A condition variable, not Mutex::Await: with many idle threads,
      // Await would re-evaluate every waiter's condition on each unlock.
      while (queue_.empty() && !stopping_) work_.Wait(&mu_);
      if (queue_.empty()) return;  // Stopping with nothing left to run.
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(task)();
  }
}

}  // namespace achilles
