#include "services/caseload/internal/work_queue.h"

#include <utility>

namespace achilles::caseload_internal {

bool WorkQueue::Push(std::string item) {
  absl::MutexLock lock(&mu_);
  auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return items_.size() < capacity_ || stopped_;
  };
  mu_.Await(absl::Condition(&room));
  if (stopped_) return false;
  items_.push_back(std::move(item));
  return true;
}

std::optional<std::string> WorkQueue::Pop() {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !items_.empty() || finished_ || stopped_;
  };
  mu_.Await(absl::Condition(&ready));
  if (stopped_ || items_.empty()) return std::nullopt;
  std::string item = std::move(items_.front());
  items_.pop_front();
  return item;
}

void WorkQueue::Finish() {
  absl::MutexLock lock(&mu_);
  finished_ = true;
}

void WorkQueue::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  items_.clear();
}

}  // namespace achilles::caseload_internal
