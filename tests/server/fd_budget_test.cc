// How the descriptor limit is split: the store never gets more than half
// of what the server and plugins leave, connections get the rest up to
// their flag, and a limit too small to serve is refused with the numbers.
#include "services/server/internal/fd_budget.h"

#include <gtest/gtest.h>

namespace achilles::server_internal {
namespace {

TEST(FdBudgetTest, SplitsTheLimitBetweenStoreAndConnections) {
  // The attack's setting: 1,024 soft, cannot be raised.
  auto b = PlanFdBudget(1024, 0, 512, 1000);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->store_files, (1024 - kFixedFds) / 2);
  EXPECT_EQ(b->connections, 1024 - kFixedFds - b->store_files);
  EXPECT_EQ(b->reserved() + b->connections, 1024);

  // systemd's hard limit: both get what they ask for.
  b = PlanFdBudget(524288, 32, 512, 1000);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->store_files, 512);
  EXPECT_EQ(b->connections, 1000);
  EXPECT_EQ(b->plugin_fds, 32);
  EXPECT_LT(b->reserved() + b->connections, 524288);

  // Plugin workers come off the top.
  b = PlanFdBudget(256, 64, 512, 1000);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->store_files, kMinStoreFiles + 32);
  EXPECT_EQ(b->reserved() + b->connections, 256);
}

TEST(FdBudgetTest, ALimitTooSmallToServeIsRefusedWithTheNumbers) {
  auto b = PlanFdBudget(100, 0, 512, 1000);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(b.status().message().find("RLIMIT_NOFILE is 100"),
            std::string::npos)
      << b.status();
  EXPECT_TRUE(
      PlanFdBudget(kFixedFds + kMinStoreFiles + kMinConnections, 0, 512, 1000)
          .ok());
}

}  // namespace
}  // namespace achilles::server_internal
