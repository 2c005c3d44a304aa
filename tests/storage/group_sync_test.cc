// GroupSync: every waiter is covered by a sync that started after its write,
// concurrent waiters share syncs, and a failed sync stays failed.
#include "storage/internal/group_sync.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace achilles::storage_internal {
namespace {

TEST(GroupSyncTest, EveryWriteIsCoveredAndWaitersShareSyncs) {
  std::atomic<uint64_t> written{0};  // Writes made so far.
  std::atomic<uint64_t> covered{0};  // Writes the latest sync started after.
  GroupSync group([&] {
    const uint64_t at_start = written.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    uint64_t prev = covered.load();
    while (prev < at_start && !covered.compare_exchange_weak(prev, at_start)) {
    }
    return absl::OkStatus();
  });
  constexpr int kThreads = 16, kWrites = 20;
  std::atomic<int> uncovered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWrites; ++i) {
        const uint64_t mine = ++written;
        ASSERT_TRUE(group.WaitDurable().ok());
        if (covered.load() < mine) uncovered.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(uncovered.load(), 0);
  // Sixteen writers at a time: far fewer syncs than writes.
  EXPECT_LT(group.syncs(), static_cast<uint64_t>(kThreads * kWrites));
  EXPECT_GE(group.syncs(), static_cast<uint64_t>(kWrites));
}

// A failed fsync may have dropped the pages it did not write, so a later
// successful sync proves nothing: the failure stays (the store reopens).
TEST(GroupSyncTest, AFailedSyncStaysFailed) {
  std::atomic<bool> fail{true};
  GroupSync group([&] {
    return fail.load() ? absl::ResourceExhaustedError("disk full")
                       : absl::OkStatus();
  });
  EXPECT_EQ(group.WaitDurable().code(), absl::StatusCode::kResourceExhausted);
  fail = false;
  EXPECT_EQ(group.WaitDurable().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace achilles::storage_internal
