// The plugin host's private directory of plugin copies, and the clean-up of
// those a dead server left behind.
//
// Each host copies plugins into <tmp>/achilles-plugins-XXXXXX and removes it
// when it shuts down; a server killed with SIGKILL never does. So the
// directory is locked (flock on the directory itself) for as long as its
// host lives, and creating a new one first removes every directory of that
// pattern whose lock is free: its owner is gone. Locks work across PID
// namespaces and are released by the kernel when a process dies, so a live
// server's copies are never taken (unlike a test of PIDs). A directory is
// created under a name the clean-up ignores and renamed once locked.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_PRIVATE_DIR_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_PRIVATE_DIR_H_

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"

namespace achilles::plugins_internal {

struct PrivateDir {
  std::string path;
  int lock_fd = -1;  // Close it after removing `path`; that drops the lock.
};

// Removes stale directories under `parent`, then creates and locks a new
// one. INTERNAL naming the path when it cannot be created or locked.
absl::StatusOr<PrivateDir> CreatePrivateDir(
    const std::filesystem::path& parent);

// Removes the directories of dead hosts under `parent`; how many.
int RemoveStalePrivateDirs(const std::filesystem::path& parent);

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_PRIVATE_DIR_H_
