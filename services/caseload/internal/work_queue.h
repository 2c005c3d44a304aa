// The queue between a caseload run's scope reader and its workers. Internal
// to services/caseload.
//
// Bounded, so a fast reader cannot grow memory with the caseload: Push
// blocks while it is full. Every wait is on a condition of the queue's own
// state, so Finish and Stop wake waiters at once. Thread-safe.
#ifndef ACHILLES_SERVICES_CASELOAD_INTERNAL_WORK_QUEUE_H_
#define ACHILLES_SERVICES_CASELOAD_INTERNAL_WORK_QUEUE_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace achilles::caseload_internal {

class WorkQueue {
 public:
  explicit WorkQueue(size_t capacity) : capacity_(capacity) {}

  // Waits for room; false (item dropped) once the queue is stopped.
  bool Push(std::string item);
  // The next item, waiting for one; nullopt once the queue is finished and
  // empty, or stopped.
  std::optional<std::string> Pop();
  // No more items will come; Pop hands out what is left.
  void Finish();
  // Drops what is queued; Push and Pop return at once from now on.
  void Stop();

 private:
  const size_t capacity_;
  absl::Mutex mu_;
  std::deque<std::string> items_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace achilles::caseload_internal

#endif  // ACHILLES_SERVICES_CASELOAD_INTERNAL_WORK_QUEUE_H_
