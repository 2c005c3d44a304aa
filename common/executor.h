// Executor: a fixed pool of threads running tasks from a bounded FIFO queue.
//
// Why: gRPC's callback API runs handlers on a handful of its own threads
// (clamp(cores/2, 2, 16) in gRPC 1.51). A handler that blocks there on an
// fsync or a plugin call holds one of them, so at most two requests were in
// flight on a 2-core machine. Handlers hand their blocking work to an
// Executor instead: many requests wait on I/O at once (and RocksDB groups
// their syncs), while the queue bound turns overload into an immediate
// refusal (the caller answers RESOURCE_EXHAUSTED) rather than unbounded
// memory and latency.
//
// Contract: every task accepted by TrySubmit runs exactly once, on one of
// the pool's threads, in submission order of dequeueing (FIFO). A task
// refused by TrySubmit is destroyed without running. Shutdown (and the
// destructor) stop accepting, run every task already queued, and join.
// Tasks must not throw. All methods are thread-safe; a task may call
// TrySubmit.
#ifndef ACHILLES_COMMON_EXECUTOR_H_
#define ACHILLES_COMMON_EXECUTOR_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace achilles {

class Executor {
 public:
  struct Options {
    std::string name = "executor";  // Names the pool in errors.
    int threads = 8;                // At least 1.
    size_t max_queued = 1024;       // Tasks waiting for a thread; >= 1.
  };

  // Starts every thread up front, so a thread limit shows at startup
  // (RESOURCE_EXHAUSTED), never under load. INVALID_ARGUMENT for a bad size.
  static absl::StatusOr<std::unique_ptr<Executor>> Start(Options options);
  ~Executor();

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task`; false (task dropped unrun) when the queue is full or the
  // executor is shutting down.
  bool TrySubmit(absl::AnyInvocable<void() &&> task);

  // Stops accepting, drains the queue, joins the threads. Idempotent; not
  // to be called from one of the executor's own tasks (it would join its
  // own thread).
  void Shutdown();

  int threads() const { return static_cast<int>(threads_.size()); }
  size_t max_queued() const { return options_.max_queued; }
  size_t queued() const;

 private:
  explicit Executor(Options options) : options_(std::move(options)) {}
  void Loop();

  const Options options_;
  std::vector<std::thread> threads_;
  absl::Mutex join_mu_;  // Held while joining the threads.
  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  absl::CondVar work_;  // Signalled when a task is queued or on shutdown.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace achilles

#endif  // ACHILLES_COMMON_EXECUTOR_H_
