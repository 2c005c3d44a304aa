// GroupSync: one fsync for many writers. A writer writes without syncing
// (while it holds whatever lock orders its write), lets the lock go, then
// waits here; one waiter at a time runs the sync function (the store's
// SyncWAL) and every writer whose write preceded that sync's start is
// answered by it. N concurrent writers cost one or two fsyncs, not N, and
// none of them waits on the disk while holding a patient lock.
//
// Contract: WaitDurable returns OK only after a sync that started after the
// call began has succeeded, so every write the caller finished before the
// call is on disk. A failed sync is sticky: it and every later call return
// its error, because on Linux a failed fsync may drop the dirty pages, so
// a later successful sync proves nothing about earlier writes. The store
// recovers by reopening the database, which makes a new GroupSync.
// Thread-safe.
// Internal to storage.
#ifndef ACHILLES_STORAGE_INTERNAL_GROUP_SYNC_H_
#define ACHILLES_STORAGE_INTERNAL_GROUP_SYNC_H_

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace achilles::storage_internal {

class GroupSync {
 public:
  explicit GroupSync(std::function<absl::Status()> sync)
      : sync_(std::move(sync)) {}

  absl::Status WaitDurable();

  // Syncs run so far (for tests and figures).
  uint64_t syncs() const;

 private:
  const std::function<absl::Status()> sync_;
  mutable absl::Mutex mu_;
  absl::CondVar finished_;
  uint64_t started_ ABSL_GUARDED_BY(mu_) = 0;         // Syncs begun.
  uint64_t finished_count_ ABSL_GUARDED_BY(mu_) = 0;  // Syncs ended.
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);  // The first failed sync.
};

}  // namespace achilles::storage_internal

#endif  // ACHILLES_STORAGE_INTERNAL_GROUP_SYNC_H_
