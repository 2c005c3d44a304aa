// The reused call threads of in-process plugins.
#include "plugins/host/internal/call_threads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace achilles::plugins_internal {
namespace {

// Waits (at most 5 s) until `done` tasks have run.
void AwaitCount(const std::atomic<int>& count, int done) {
  for (int i = 0; i < 500 && count.load() < done; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
}

TEST(CallThreadsTest, ManyTasksShareAFewThreads) {
  CallThreads threads("test", 3);
  std::atomic<int> ran{0};
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(threads
                    .Submit([&ran] {
                      ++ran;
                      return true;
                    })
                    .ok());
  }
  AwaitCount(ran, 200);
  EXPECT_EQ(ran.load(), 200);
  EXPECT_LE(threads.LiveThreads(), 3);
  EXPECT_GE(threads.LiveThreads(), 1);
}

TEST(CallThreadsTest, ABusyPoolQueuesInsteadOfGrowing) {
  CallThreads threads("test", 1);
  absl::Notification release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(threads
                  .Submit([&] {
                    release.WaitForNotification();
                    ++ran;
                    return true;
                  })
                  .ok());
  ASSERT_TRUE(threads
                  .Submit([&] {
                    ++ran;
                    return true;
                  })
                  .ok());
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(threads.LiveThreads(), 1);
  release.Notify();
  AwaitCount(ran, 2);
  EXPECT_EQ(ran.load(), 2);
}

TEST(CallThreadsTest, AStuckThreadIsReplacedAndEndsWhenItsTaskReturns) {
  CallThreads threads("test", 1);
  absl::Notification release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(threads
                  .Submit([&] {
                    release.WaitForNotification();
                    ++ran;
                    return false;  // Given up meanwhile: end.
                  })
                  .ok());
  ASSERT_TRUE(threads
                  .Submit([&] {
                    ++ran;
                    return true;
                  })
                  .ok());
  absl::SleepFor(absl::Milliseconds(50));
  threads.ReleaseStuckThread();  // Starts a replacement for the queued task.
  AwaitCount(ran, 1);
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(threads.LiveThreads(), 1);
  release.Notify();
  AwaitCount(ran, 2);
  EXPECT_EQ(threads.LiveThreads(), 1);
}

TEST(CallThreadsTest, ThePoolMayGoWhileATaskStillRuns) {
  auto threads = std::make_shared<CallThreads>("test", 2);
  absl::Notification release;
  std::atomic<bool> finished{false};
  ASSERT_TRUE(threads
                  ->Submit([&] {
                    release.WaitForNotification();
                    finished = true;
                    return true;
                  })
                  .ok());
  threads.reset();  // Nothing is joined; the busy thread ends after its task.
  release.Notify();
  for (int i = 0; i < 500 && !finished.load(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(finished.load());
}

}  // namespace
}  // namespace achilles::plugins_internal
