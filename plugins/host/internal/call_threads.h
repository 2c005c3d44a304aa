// A small, bounded set of reused threads that run one in-process plugin's
// calls, so a call costs a hand-over rather than a thread start. Internal to
// plugins/host.
//
// At most `max_threads` threads count against the bound. A thread whose task
// overran (a plugin call stuck past its deadline) is given up by the caller
// with ReleaseStuckThread: it stops counting, so a replacement can start,
// and it ends once its task returns instead of taking more work. How many
// stuck threads there can be is bounded by the caller's quarantine: a
// stuck plugin gets no new calls.
//
// Threads are detached and share the queue with this object, so the object
// may be destroyed on one of its own threads (by a task dropping the last
// reference to its owner): idle threads then end, busy ones after their
// task. Nothing is joined.
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_CALL_THREADS_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_CALL_THREADS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace achilles::plugins_internal {

class CallThreads {
 public:
  // A task returns false when the caller gave its thread up meanwhile
  // (ReleaseStuckThread): the thread then ends.
  using Task = std::function<bool()>;

  // `name` says what the threads are for, in messages ("cannot start a
  // thread for <name>: ...").
  CallThreads(std::string name, int max_threads);
  ~CallThreads();
  CallThreads(const CallThreads&) = delete;
  CallThreads& operator=(const CallThreads&) = delete;

  // Queues `task` for an idle thread, starting one when none is idle and
  // fewer than the bound run. RESOURCE_EXHAUSTED, with nothing queued, when
  // a thread was needed and the system refused it (common/thread_util.h).
  absl::Status Submit(Task task);

  // The thread running a task that overran no longer counts against the
  // bound; that task must return false. Starts a replacement when work is
  // waiting (best effort: a refusal leaves the work to the other threads).
  void ReleaseStuckThread();

  // Threads counting against the bound.
  int LiveThreads() const;

 private:
  struct State;
  // What each thread runs until it is given up or the pool closes.
  static void Serve(const std::shared_ptr<State>& state);
  // Starts a thread that counts as live. RESOURCE_EXHAUSTED on refusal.
  absl::Status StartThread();

  const std::string name_;
  const int max_threads_;
  std::shared_ptr<State> state_;
};

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_CALL_THREADS_H_
