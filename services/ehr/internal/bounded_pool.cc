#include "services/ehr/internal/bounded_pool.h"

namespace achilles::ehr_internal {

BoundedPool::BoundedPool(int threads, int max_queued)
    : max_queued_(static_cast<size_t>(max_queued > 0 ? max_queued : 1)) {
  for (int i = 0; i < (threads > 0 ? threads : 1); ++i) {
    threads_.emplace_back([this] { Work(); });
  }
}

BoundedPool::~BoundedPool() { shutdown(); }

void BoundedPool::enqueue(std::function<void()> fn) {
  std::unique_lock<std::mutex> lock(mu_);
  has_room_.wait(lock, [&] { return stop_ || queue_.size() < max_queued_; });
  // After shutdown the connection is still served (on the caller's thread)
  // so its socket is closed rather than leaked.
  if (stop_) {
    lock.unlock();
    fn();
    return;
  }
  queue_.push_back(std::move(fn));
  has_work_.notify_one();
}

void BoundedPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && threads_.empty()) return;
    stop_ = true;
  }
  has_work_.notify_all();
  has_room_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void BoundedPool::Work() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      has_work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopped and drained.
      fn = std::move(queue_.front());
      queue_.pop_front();
      has_room_.notify_one();
    }
    fn();
  }
}

}  // namespace achilles::ehr_internal
