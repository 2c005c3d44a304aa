#include "plugins/host/internal/private_dir.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace achilles::plugins_internal {
namespace {

namespace fs = std::filesystem;

constexpr char kPrefix[] = "achilles-plugins-";
// Where a directory is made before it is locked; never cleaned up by others.
constexpr char kNewPrefix[] = ".achilles-plugins-new-";

// The directory opened and locked exclusively without waiting; -1 when
// another process holds the lock (or it cannot be opened).
int TryLock(const std::string& path) {
  const int fd =
      open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int RemoveStalePrivateDirs(const fs::path& parent) {
  int removed = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    std::error_code type_ec;
    if (!absl::StartsWith(name, kPrefix) || !e.is_directory(type_ec) ||
        e.is_symlink(type_ec)) {
      continue;
    }
    const int fd = TryLock(e.path().string());
    if (fd < 0) continue;  // Its server is alive.
    std::error_code rm_ec;
    fs::remove_all(e.path(), rm_ec);
    close(fd);
    if (!rm_ec) ++removed;
  }
  if (removed > 0) {
    Log(LogLevel::kInfo, "removed ", removed, " plugin copy director",
        removed == 1 ? "y" : "ies", " of stopped ", "servers from ",
        parent.string());
  }
  return removed;
}

absl::StatusOr<PrivateDir> CreatePrivateDir(const fs::path& parent) {
  RemoveStalePrivateDirs(parent);
  std::string tmpl = (parent / absl::StrCat(kNewPrefix, "XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create a private plugin directory in ",
                     parent.string(), ": ", std::strerror(errno)));
  }
  PrivateDir dir;
  dir.lock_fd = TryLock(tmpl);
  const std::string suffix = tmpl.substr(tmpl.size() - 6);
  dir.path = (parent / absl::StrCat(kPrefix, suffix)).string();
  // RENAME_NOREPLACE: never take over a directory that happens to exist.
  if (dir.lock_fd < 0 || renameat2(AT_FDCWD, tmpl.c_str(), AT_FDCWD,
                                   dir.path.c_str(), RENAME_NOREPLACE) != 0) {
    const std::string why = std::strerror(errno);
    if (dir.lock_fd >= 0) close(dir.lock_fd);
    std::error_code ec;
    fs::remove_all(tmpl, ec);
    return absl::InternalError(absl::StrCat(
        "cannot set up the private plugin directory ", dir.path, ": ", why));
  }
  return dir;
}

}  // namespace achilles::plugins_internal
