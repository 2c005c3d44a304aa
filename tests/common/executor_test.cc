// Executor: every accepted task runs once, a full queue refuses at once,
// shutdown drains what was accepted, and many tasks block concurrently.
#include "common/executor.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"

namespace achilles {
namespace {

TEST(ExecutorTest, RefusesBadSizes) {
  EXPECT_EQ(Executor::Start({"x", 0, 4}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Executor::Start({"x", 2, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ExecutorTest, RunsEveryAcceptedTaskOnce) {
  auto ex = Executor::Start({"t", 4, 10000});
  ASSERT_TRUE(ex.ok()) << ex.status();
  std::atomic<int> runs{0};
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE((*ex)->TrySubmit([&runs] { runs.fetch_add(1); }));
  }
  (*ex)->Shutdown();
  EXPECT_EQ(runs.load(), 5000);
}

TEST(ExecutorTest, FullQueueRefusesAndRecovers) {
  auto ex = Executor::Start({"t", 1, 2});
  ASSERT_TRUE(ex.ok());
  absl::Notification release;
  absl::Notification started;
  ASSERT_TRUE((*ex)->TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();  // The one thread is now busy.
  std::atomic<int> runs{0};
  EXPECT_TRUE((*ex)->TrySubmit([&runs] { runs.fetch_add(1); }));
  EXPECT_TRUE((*ex)->TrySubmit([&runs] { runs.fetch_add(1); }));
  EXPECT_FALSE((*ex)->TrySubmit([&runs] { runs.fetch_add(100); }));
  EXPECT_EQ((*ex)->queued(), 2u);
  release.Notify();
  (*ex)->Shutdown();
  EXPECT_EQ(runs.load(), 2);
}

TEST(ExecutorTest, RefusesAfterShutdown) {
  auto ex = Executor::Start({"t", 2, 8});
  ASSERT_TRUE(ex.ok());
  (*ex)->Shutdown();
  EXPECT_FALSE((*ex)->TrySubmit([] {}));
}

TEST(ExecutorTest, BlockingTasksRunConcurrently) {
  // Eight tasks that each wait for all eight to have started can only
  // finish if eight threads run them at once.
  constexpr int kThreads = 8;
  auto ex = Executor::Start({"t", kThreads, 64});
  ASSERT_TRUE(ex.ok());
  absl::BlockingCounter all_started(kThreads);
  absl::Notification go;
  absl::BlockingCounter done(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE((*ex)->TrySubmit([&] {
      all_started.DecrementCount();
      go.WaitForNotification();
      done.DecrementCount();
    }));
  }
  all_started.Wait();
  go.Notify();
  done.Wait();
}

}  // namespace
}  // namespace achilles
