// httplib's task queue with a bound: `threads` workers serve connections
// and at most `max_queued` accepted connections wait for one. When the
// queue is full the accept thread waits, so further clients queue in the
// kernel's listen backlog instead of in our memory (httplib 0.11's own
// pool has no bound).
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_BOUNDED_POOL_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_BOUNDED_POOL_H_

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace achilles::ehr_internal {

class BoundedPool : public httplib::TaskQueue {
 public:
  BoundedPool(int threads, int max_queued);
  ~BoundedPool() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void Work();
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable has_work_, has_room_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_BOUNDED_POOL_H_
