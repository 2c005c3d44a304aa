// power_loss_probe DIR STEP: does one scripted file-system step in DIR and
// then SIGKILLs itself, so power_loss_shim_test can check what the shim's
// image keeps of it. Run under the shim only.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>

namespace {

int Open(const std::string& path, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    perror(path.c_str());
    _exit(2);
  }
  return fd;
}

void Write(int fd, const char* text) {
  if (write(fd, text, strlen(text)) != static_cast<ssize_t>(strlen(text))) {
    perror("write");
    _exit(2);
  }
}

void SyncDir(const std::string& dir) {
  const int fd = Open(dir, O_RDONLY | O_DIRECTORY);
  fsync(fd);
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: power_loss_probe DIR STEP\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string step = argv[2];
  const std::string old_file = dir + "/old";  // "durable\n" at start.
  if (step == "append_unsynced") {
    const int fd = Open(old_file, O_WRONLY | O_APPEND);
    Write(fd, "lost\n");
  } else if (step == "append_fdatasync") {
    const int fd = Open(old_file, O_WRONLY | O_APPEND);
    Write(fd, "kept\n");
    fdatasync(fd);
    Write(fd, "lost\n");
  } else if (step == "pwrite_fsync_then_truncate") {
    const int fd = Open(old_file, O_WRONLY);
    if (pwrite(fd, "DUR", 3, 0) != 3) return 2;
    fsync(fd);
    if (ftruncate(fd, 1) != 0) return 2;  // Not synced: size stays 8.
  } else if (step == "create_synced_no_dirsync") {
    const int fd = Open(dir + "/new", O_WRONLY | O_CREAT | O_TRUNC);
    Write(fd, "data\n");
    fsync(fd);
  } else if (step == "create_synced_dirsync") {
    const int fd = Open(dir + "/new", O_WRONLY | O_CREAT | O_TRUNC);
    Write(fd, "data\n");
    fsync(fd);
    SyncDir(dir);
  } else if (step == "create_dirsync_unsynced_data") {
    const int fd = Open(dir + "/new", O_WRONLY | O_CREAT | O_TRUNC);
    Write(fd, "data\n");
    SyncDir(dir);
  } else if (step == "replace_by_rename_no_dirsync" ||
             step == "replace_by_rename_dirsync") {
    const int fd = Open(dir + "/tmp", O_WRONLY | O_CREAT | O_TRUNC);
    Write(fd, "replacement\n");
    fsync(fd);
    rename((dir + "/tmp").c_str(), old_file.c_str());
    if (step == "replace_by_rename_dirsync") SyncDir(dir);
  } else if (step == "unlink_no_dirsync" || step == "unlink_dirsync") {
    unlink(old_file.c_str());
    // A new file may get the freed inode; it must not take over the old
    // file's durable bytes.
    const int fd = Open(dir + "/new", O_WRONLY | O_CREAT | O_TRUNC);
    Write(fd, "other\n");
    fsync(fd);
    if (step == "unlink_dirsync") SyncDir(dir);
  } else {
    fprintf(stderr, "unknown step %s\n", step.c_str());
    return 2;
  }
  kill(getpid(), SIGKILL);
  return 3;
}
