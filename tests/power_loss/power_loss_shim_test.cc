// The shim's model of a power cut, step by step: for each scripted step of
// power_loss_probe (run under the shim, then SIGKILLed), the restored
// directory holds exactly what a disk may keep after losing power.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "tests/common/temp_dir.h"
#include "tests/power_loss/durable_image.h"

namespace achilles::testing {
namespace {

namespace fs = std::filesystem;

// Runs the probe step under the shim in a directory holding "old" =
// "durable\n", restores the image, and returns every file and its bytes.
std::map<std::string, std::string> AfterPowerCut(const std::string& step) {
  TempDir tmp;
  const std::string dir = tmp.Sub("data");
  const std::string image = tmp.Sub("image");
  fs::create_directory(dir);
  std::ofstream(dir + "/old") << "durable\n";
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string preload = std::string("LD_PRELOAD=") + SHIM_LIBRARY;
    const std::string d = "ACH_POWER_LOSS_DIR=" + dir;
    const std::string i = "ACH_POWER_LOSS_IMAGE=" + image;
    char* envp[] = {const_cast<char*>(preload.c_str()),
                    const_cast<char*>(d.c_str()), const_cast<char*>(i.c_str()),
                    nullptr};
    char* argv[] = {const_cast<char*>(PROBE_BINARY),
                    const_cast<char*>(dir.c_str()),
                    const_cast<char*>(step.c_str()), nullptr};
    execve(PROBE_BINARY, argv, envp);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << step << ": probe failed, status " << status;
  EXPECT_TRUE(RestoreDurableImage(image, dir).ok());
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path());
    files[e.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), {});
  }
  return files;
}

using Files = std::map<std::string, std::string>;

TEST(PowerLossShimTest, UnsyncedAppendIsLost) {
  EXPECT_EQ(AfterPowerCut("append_unsynced"), (Files{{"old", "durable\n"}}));
}

TEST(PowerLossShimTest, FdatasyncKeepsWhatWasWrittenBeforeIt) {
  EXPECT_EQ(AfterPowerCut("append_fdatasync"),
            (Files{{"old", "durable\nkept\n"}}));
}

TEST(PowerLossShimTest, UnsyncedTruncateIsLost) {
  EXPECT_EQ(AfterPowerCut("pwrite_fsync_then_truncate"),
            (Files{{"old", "DURable\n"}}));
}

TEST(PowerLossShimTest, NewFileNeedsADirectorySync) {
  EXPECT_EQ(AfterPowerCut("create_synced_no_dirsync"),
            (Files{{"old", "durable\n"}}));
  EXPECT_EQ(AfterPowerCut("create_synced_dirsync"),
            (Files{{"old", "durable\n"}, {"new", "data\n"}}));
  EXPECT_EQ(AfterPowerCut("create_dirsync_unsynced_data"),
            (Files{{"old", "durable\n"}, {"new", ""}}));
}

TEST(PowerLossShimTest, RenameNeedsADirectorySync) {
  EXPECT_EQ(AfterPowerCut("replace_by_rename_no_dirsync"),
            (Files{{"old", "durable\n"}}));
  EXPECT_EQ(AfterPowerCut("replace_by_rename_dirsync"),
            (Files{{"old", "replacement\n"}}));
}

TEST(PowerLossShimTest, UnlinkNeedsADirectorySyncAndKeepsTheOldBytes) {
  EXPECT_EQ(AfterPowerCut("unlink_no_dirsync"), (Files{{"old", "durable\n"}}));
  EXPECT_EQ(AfterPowerCut("unlink_dirsync"), (Files{{"new", "other\n"}}));
}

}  // namespace
}  // namespace achilles::testing
