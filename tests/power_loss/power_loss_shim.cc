// libach_power_loss_shim.so: an LD_PRELOAD library that records what a power
// cut would leave of one directory, so a test can SIGKILL a process and then
// put the directory back the way the disk would hold it.
//
//   ACH_POWER_LOSS_DIR=/path/data      the directory to watch (flat, as a
//                                      RocksDB data dir is)
//   ACH_POWER_LOSS_IMAGE=/path/image   where the durable image is kept; must
//                                      not exist yet
//
// Model (the strictest a POSIX file system allows, what an ext4 disk with a
// volatile cache may do on power loss):
//  - a file's bytes and size reach the image only at fsync/fdatasync on it;
//    write, pwrite, writev, ftruncate and fallocate stay in the "page cache"
//    (the real file, which the process keeps reading normally);
//  - sync_file_range is not a durability point: it starts or waits for
//    write-back of data pages but never the size or the disk cache (see its
//    man page); RocksDB only uses it to smooth write-back (bytes_per_sync);
//  - names (create, rename, unlink, link) reach the image only at an fsync
//    of the directory itself; until then the image keeps the old names, and
//    a replaced or removed file keeps its last durable bytes.
// Everything in the directory when the process starts counts as durable.
//
// Image layout, read back by tests/power_loss/durable_image.h:
//   IMAGE/names      one "<id> <file name>" line per durable name
//   IMAGE/ids/<id>   the durable bytes of one file (absent: none synced)
// Each update of `names` is a write to a temporary file and a rename, so a
// SIGKILL at any moment leaves a consistent image; a file's bytes may be
// half-updated, as a torn write-back would leave them.
//
// Not modeled: writes through mmap, and FILE* streams (glibc's fwrite calls
// write internally, past this library); RocksDB uses neither for its data
// (only for its info LOG, which does not matter for recovery).
//
// The variables are removed from the environment at load, so child processes
// (plugin workers) never update the image. Test-only: never ship this.
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace {

// The real libc functions, found past this library.
template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}
#define ACH_REAL(name) static const auto real = Next<decltype(&::name)>(#name)

using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);

int RealOpen(const char* path, int flags, mode_t mode = 0) {
  static const auto real = Next<OpenFn>("open");
  return real(path, flags, mode);
}
ssize_t RealWrite(int fd, const void* buf, size_t n) {
  ACH_REAL(write);
  return real(fd, buf, n);
}
ssize_t RealPwrite(int fd, const void* buf, size_t n, off_t off) {
  ACH_REAL(pwrite);
  return real(fd, buf, n, off);
}
int RealClose(int fd) {
  ACH_REAL(close);
  return real(fd);
}
int RealRename(const char* from, const char* to) {
  ACH_REAL(rename);
  return real(from, to);
}
int RealFtruncate(int fd, off_t size) {
  ACH_REAL(ftruncate);
  return real(fd, size);
}

constexpr int kMaxFds = 1 << 16;
constexpr int64_t kUntracked = 0;
constexpr int64_t kTheDirectory = -1;

struct FileState {
  uint64_t dirty_lo = UINT64_MAX;  // Hull of bytes written since the last
  uint64_t dirty_hi = 0;           // sync, [lo, hi).
  int64_t durable_size = -1;       // -1: nothing synced yet.
};

struct Shim {
  bool active = false;
  std::string dir;    // realpath of ACH_POWER_LOSS_DIR
  std::string image;  // ACH_POWER_LOSS_IMAGE
  std::mutex mu;
  int64_t next_id = 1;
  std::unordered_map<ino_t, int64_t> id_of_inode;  // Live files in dir.
  std::unordered_map<int64_t, FileState> files;    // By id.
  std::atomic<int64_t> fd_ids[kMaxFds];            // kUntracked, dir or id.
};

Shim& State() {
  static Shim* shim = new Shim();  // Never destroyed: hooks run until exit.
  return *shim;
}

void Die(const char* what) {
  // A shim that cannot keep its image would make the test pass or fail for
  // the wrong reason: stop the process loudly instead.
  fprintf(stderr, "power_loss_shim: %s: %s\n", what, strerror(errno));
  abort();
}

std::string IdPath(const Shim& s, int64_t id) {
  return s.image + "/ids/" + std::to_string(id);
}

// Copies [lo, hi) of `from_fd` (clipped at its end) into the image file of
// `id`, then sets that file's size to `size`.
void CopyToImage(const Shim& s, int from_fd, int64_t id, uint64_t lo,
                 uint64_t hi, off_t size) {
  const int out =
      RealOpen(IdPath(s, id).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (out < 0) Die("open image file");
  char buf[1 << 16];
  for (uint64_t off = lo; off < hi && off < static_cast<uint64_t>(size);) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(sizeof buf, hi - off));
    const ssize_t got = pread(from_fd, buf, want, static_cast<off_t>(off));
    if (got < 0) Die("read synced file");
    if (got == 0) break;
    if (RealPwrite(out, buf, static_cast<size_t>(got),
                   static_cast<off_t>(off)) != got) {
      Die("write image file");
    }
    off += static_cast<uint64_t>(got);
  }
  if (RealFtruncate(out, size) != 0) Die("truncate image file");
  RealClose(out);
}

// The process's own fd may be write-only; read through a fresh one.
int OpenForReading(int fd) {
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  return RealOpen(proc.c_str(), O_RDONLY | O_CLOEXEC);
}

// Rewrites IMAGE/names from the directory as it is now.
void WriteNames(Shim& s) {
  std::string text;
  DIR* d = opendir(s.dir.c_str());
  if (d == nullptr) Die("opendir");
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    struct stat st;
    if (name == "." || name == ".." ||
        lstat((s.dir + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    auto it = s.id_of_inode.find(st.st_ino);
    if (it == s.id_of_inode.end()) {
      // Created past this library (fopen): no bytes of it were synced here.
      it = s.id_of_inode.emplace(st.st_ino, s.next_id++).first;
    }
    text += std::to_string(it->second) + " " + name + "\n";
  }
  closedir(d);
  const std::string tmp = s.image + "/names.tmp";
  const int fd =
      RealOpen(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || RealWrite(fd, text.data(), text.size()) !=
                    static_cast<ssize_t>(text.size())) {
    Die("write names");
  }
  RealClose(fd);
  if (RealRename(tmp.c_str(), (s.image + "/names").c_str()) != 0) {
    Die("rename names");
  }
}

__attribute__((constructor)) void Init() {
  Shim& s = State();
  const char* dir = getenv("ACH_POWER_LOSS_DIR");
  const char* image = getenv("ACH_POWER_LOSS_IMAGE");
  if (dir == nullptr || image == nullptr) return;
  char real[PATH_MAX];
  if (realpath(dir, real) == nullptr) Die("ACH_POWER_LOSS_DIR");
  s.dir = real;
  s.image = image;
  unsetenv("ACH_POWER_LOSS_DIR");
  unsetenv("ACH_POWER_LOSS_IMAGE");
  if (mkdir(s.image.c_str(), 0755) != 0 ||
      mkdir((s.image + "/ids").c_str(), 0755) != 0) {
    Die("create ACH_POWER_LOSS_IMAGE (it must not exist yet)");
  }
  // What is there now is on disk.
  DIR* d = opendir(s.dir.c_str());
  if (d == nullptr) Die("opendir ACH_POWER_LOSS_DIR");
  while (dirent* e = readdir(d)) {
    const std::string path = s.dir + "/" + e->d_name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const int64_t id = s.next_id++;
    s.id_of_inode[st.st_ino] = id;
    const int fd = RealOpen(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) Die("open existing file");
    CopyToImage(s, fd, id, 0, static_cast<uint64_t>(st.st_size), st.st_size);
    RealClose(fd);
    s.files[id].durable_size = st.st_size;
  }
  closedir(d);
  WriteNames(s);
  s.active = true;
}

bool Tracking() { return State().active; }

// After an open of any kind: is `fd` the directory, a file in it, or
// neither? Clears what an earlier holder of the fd number left.
void AfterOpen(int fd) {
  if (fd < 0 || fd >= kMaxFds || !Tracking()) return;
  Shim& s = State();
  char path[PATH_MAX];
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = readlink(proc.c_str(), path, sizeof path - 1);
  int64_t what = kUntracked;
  if (n > 0) {
    path[n] = '\0';
    const std::string p = path;
    struct stat st;
    if (p == s.dir) {
      what = kTheDirectory;
    } else if (p.size() > s.dir.size() &&
               p.compare(0, s.dir.size(), s.dir) == 0 &&
               p[s.dir.size()] == '/' &&
               p.find('/', s.dir.size() + 1) == std::string::npos &&
               fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      std::lock_guard<std::mutex> lock(s.mu);
      auto it = s.id_of_inode.find(st.st_ino);
      if (it == s.id_of_inode.end()) {
        it = s.id_of_inode.emplace(st.st_ino, s.next_id++).first;
      }
      what = it->second;
      // O_TRUNC or not, the size may now differ from the durable one; the
      // next sync compares.
    }
  }
  s.fd_ids[fd].store(what);
}

int64_t IdOf(int fd) {
  if (fd < 0 || fd >= kMaxFds || !Tracking()) return kUntracked;
  return State().fd_ids[fd].load();
}

void MarkDirty(int fd, uint64_t lo, uint64_t hi) {
  const int64_t id = IdOf(fd);
  if (id <= 0 || lo >= hi) return;
  Shim& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  FileState& f = s.files[id];
  f.dirty_lo = std::min(f.dirty_lo, lo);
  f.dirty_hi = std::max(f.dirty_hi, hi);
}

// After write/writev of `n` bytes at the file offset: the offset now ends
// them (O_APPEND included).
void MarkWritten(int fd, ssize_t n) {
  if (n <= 0 || IdOf(fd) <= 0) return;
  const off_t end = lseek(fd, 0, SEEK_CUR);
  if (end >= n) {
    MarkDirty(fd, static_cast<uint64_t>(end - n), static_cast<uint64_t>(end));
  }
}

// fsync/fdatasync: the file's current bytes and size become durable, or for
// the directory, its current names.
void Sync(int fd) {
  const int64_t id = IdOf(fd);
  if (id == kUntracked) return;
  Shim& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  if (id == kTheDirectory) {
    WriteNames(s);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) Die("fstat synced file");
  FileState& f = s.files[id];
  const bool size_changed = f.durable_size != st.st_size;
  if (f.dirty_lo >= f.dirty_hi && !size_changed) return;
  const int in = OpenForReading(fd);
  if (in < 0) Die("reopen synced file");
  CopyToImage(s, in, id, f.dirty_lo, f.dirty_hi, st.st_size);
  RealClose(in);
  f = FileState();
  f.durable_size = st.st_size;
}

// Before a name in the directory goes away (unlink, or replaced by rename):
// if that was the inode's last name, a new file may reuse its number, and
// must not inherit the old file's image.
void ForgetInodeIfLastName(const char* path) {
  if (!Tracking()) return;
  char parent[PATH_MAX];
  std::string p = path;
  const size_t slash = p.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : p.substr(0, slash);
  Shim& s = State();
  struct stat st;
  if (realpath(dir.c_str(), parent) == nullptr || s.dir != parent ||
      lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
    return;
  }
  std::lock_guard<std::mutex> lock(s.mu);
  s.id_of_inode.erase(st.st_ino);
}

int ModeArg(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int)
                                                               : 0;
}

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const int mode = ModeArg(flags, ap);
  va_end(ap);
  static const auto real = Next<OpenFn>("open");
  const int fd = real(path, flags, mode);
  AfterOpen(fd);
  return fd;
}

int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const int mode = ModeArg(flags, ap);
  va_end(ap);
  static const auto real = Next<OpenFn>("open64");
  const int fd = real(path, flags, mode);
  AfterOpen(fd);
  return fd;
}

int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const int mode = ModeArg(flags, ap);
  va_end(ap);
  static const auto real = Next<OpenatFn>("openat");
  const int fd = real(dirfd, path, flags, mode);
  AfterOpen(fd);
  return fd;
}

int openat64(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const int mode = ModeArg(flags, ap);
  va_end(ap);
  static const auto real = Next<OpenatFn>("openat64");
  const int fd = real(dirfd, path, flags, mode);
  AfterOpen(fd);
  return fd;
}

int creat(const char* path, mode_t mode) {
  ACH_REAL(creat);
  const int fd = real(path, mode);
  AfterOpen(fd);
  return fd;
}

int close(int fd) {
  if (fd >= 0 && fd < kMaxFds && Tracking()) {
    State().fd_ids[fd].store(kUntracked);
  }
  return RealClose(fd);
}

ssize_t write(int fd, const void* buf, size_t n) {
  const ssize_t r = RealWrite(fd, buf, n);
  MarkWritten(fd, r);
  return r;
}

ssize_t writev(int fd, const struct iovec* iov, int count) {
  ACH_REAL(writev);
  const ssize_t r = real(fd, iov, count);
  MarkWritten(fd, r);
  return r;
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  const ssize_t r = RealPwrite(fd, buf, n, off);
  if (r > 0) {
    MarkDirty(fd, static_cast<uint64_t>(off), static_cast<uint64_t>(off + r));
  }
  return r;
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  ACH_REAL(pwrite64);
  const ssize_t r = real(fd, buf, n, off);
  if (r > 0) {
    MarkDirty(fd, static_cast<uint64_t>(off), static_cast<uint64_t>(off + r));
  }
  return r;
}

ssize_t pwritev(int fd, const struct iovec* iov, int count, off_t off) {
  ACH_REAL(pwritev);
  const ssize_t r = real(fd, iov, count, off);
  if (r > 0) {
    MarkDirty(fd, static_cast<uint64_t>(off), static_cast<uint64_t>(off + r));
  }
  return r;
}

ssize_t pwritev2(int fd, const struct iovec* iov, int count, off_t off,
                 int flags) {
  ACH_REAL(pwritev2);
  const off_t start = off == -1 ? lseek(fd, 0, SEEK_CUR) : off;
  const ssize_t r = real(fd, iov, count, off, flags);
  if (r > 0 && start >= 0) {
    MarkDirty(fd, static_cast<uint64_t>(start),
              static_cast<uint64_t>(start + r));
  }
  return r;
}

// ftruncate and fallocate change only the size, which the next sync reads
// with fstat; nothing to record here. They are listed so a reader of this
// file knows they were considered.

int fsync(int fd) {
  Sync(fd);
  ACH_REAL(fsync);
  return real(fd);
}

int fdatasync(int fd) {
  Sync(fd);
  ACH_REAL(fdatasync);
  return real(fd);
}

int unlink(const char* path) {
  ForgetInodeIfLastName(path);
  ACH_REAL(unlink);
  return real(path);
}

int rename(const char* from, const char* to) {
  ForgetInodeIfLastName(to);
  return RealRename(from, to);
}

}  // extern "C"
