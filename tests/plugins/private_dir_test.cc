// The plugin host's private directories: a live host's is never removed,
// one whose host is gone (its lock released, as by SIGKILL) is.
#include "plugins/host/internal/private_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/common/temp_dir.h"

namespace achilles::plugins_internal {
namespace {

namespace fs = std::filesystem;
using ::achilles::testing::TempDir;

TEST(PrivateDirTest, OnlyDirectoriesOfGoneHostsAreRemoved) {
  TempDir tmp;
  auto live = CreatePrivateDir(tmp.path());
  ASSERT_TRUE(live.ok()) << live.status();
  auto gone = CreatePrivateDir(tmp.path());
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_NE(live->path, gone->path);
  std::ofstream(gone->path + "/abc.so") << "copy";
  // From before the lock existed: nobody can hold it.
  fs::create_directory(tmp.Sub("achilles-plugins-oldfmt"));
  // Not ours at all.
  fs::create_directory(tmp.Sub("something-else"));

  EXPECT_EQ(RemoveStalePrivateDirs(tmp.path()), 1);  // Only the old one.
  close(gone->lock_fd);                              // Its host is gone.
  EXPECT_EQ(RemoveStalePrivateDirs(tmp.path()), 1);
  EXPECT_TRUE(fs::exists(live->path));
  EXPECT_FALSE(fs::exists(gone->path));
  EXPECT_FALSE(fs::exists(tmp.Sub("achilles-plugins-oldfmt")));
  EXPECT_TRUE(fs::exists(tmp.Sub("something-else")));
  close(live->lock_fd);
}

}  // namespace
}  // namespace achilles::plugins_internal
