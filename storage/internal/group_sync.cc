#include "storage/internal/group_sync.h"

namespace achilles::storage_internal {

absl::Status GroupSync::WaitDurable() {
  absl::MutexLock lock(&mu_);
  if (!failed_.ok()) return failed_;
  // A sync already running may have started before our write: only the
  // next one to start is sure to cover it.
  const uint64_t needed = started_ + 1;
  while (finished_count_ < needed) {
    if (running_) {
      finished_.Wait(&mu_);
      continue;
    }
    // Lead: run one sync for everyone waiting now.
    running_ = true;
    const uint64_t mine = ++started_;
    mu_.Unlock();
    absl::Status st = sync_();
    mu_.Lock();
    running_ = false;
    finished_count_ = mine;
    if (!st.ok() && failed_.ok()) failed_ = std::move(st);
    finished_.SignalAll();
  }
  return failed_;
}

uint64_t GroupSync::syncs() const {
  absl::MutexLock lock(&mu_);
  return finished_count_;
}

}  // namespace achilles::storage_internal
