#include "services/server/internal/fd_budget.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"

namespace achilles::server_internal {
namespace {

// Accepted descriptors at or above this number are closed at once.
std::atomic<int> g_first_refused_fd{INT_MAX};
std::atomic<uint64_t> g_shed{0};
// Kept open so that, when accept4 fails with EMFILE, one descriptor can be
// freed to accept the pending connection and close it.
absl::Mutex g_spare_mu;
int g_spare_fd ABSL_GUARDED_BY(g_spare_mu) = -1;

int RealAccept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  return static_cast<int>(syscall(SYS_accept4, fd, addr, len, flags));
}

void NoteShed() {
  const uint64_t n = g_shed.fetch_add(1) + 1;
  if (n == 1 || n % 1000 == 0) {
    Log(LogLevel::kWarning, "connection limit reached: closed ", n,
        " new connection(s) at once so far (see --max_connections)");
  }
}

// Out of descriptors with a connection pending: use the spare descriptor to
// take it and close it. True when one was shed.
bool ShedWithSpare(int listener) {
  absl::MutexLock lock(&g_spare_mu);
  if (g_spare_fd < 0) return false;
  close(g_spare_fd);
  const int c = RealAccept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (c >= 0) close(c);
  g_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (c < 0) return false;
  NoteShed();
  return true;
}

int OpenFdCount() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
    n -= 3;  // ".", ".." and the directory itself.
  }
  return n;
}

}  // namespace

FdLimit RaiseFdLimit() {
  FdLimit out;
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return out;
  out.soft_before = lim.rlim_cur;
  out.hard = lim.rlim_max;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  out.soft = lim.rlim_cur;
  return out;
}

absl::StatusOr<FdBudget> PlanFdBudget(int64_t limit, int plugin_fds,
                                      int store_files_wanted,
                                      int max_connections) {
  FdBudget b;
  b.limit = limit;
  b.plugin_fds = plugin_fds;
  const int64_t left = limit - kFixedFds - plugin_fds;
  const int64_t need = kMinStoreFiles + kMinConnections;
  if (left < need) {
    return absl::FailedPreconditionError(absl::StrCat(
        "RLIMIT_NOFILE is ", limit, " file descriptors; the server needs at ",
        "least ", kFixedFds + plugin_fds + need, " (", kFixedFds,
        " for itself, ", plugin_fds, " for plugin workers, ", kMinStoreFiles,
        " for the store, ", kMinConnections,
        " for connections): raise LimitNOFILE / ulimit -n"));
  }
  b.store_files = static_cast<int>(std::max<int64_t>(
      kMinStoreFiles, std::min<int64_t>(store_files_wanted, left / 2)));
  b.connections = static_cast<int>(
      std::min<int64_t>(max_connections, left - b.store_files));
  return b;
}

void GuardConnections(const FdBudget& budget) {
  {
    absl::MutexLock lock(&g_spare_mu);
    if (g_spare_fd < 0) g_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  // Descriptors are handed out lowest first, so numbers below the one
  // returned are all taken: a connection landing at or above `first_refused`
  // would leave fewer than the reserved share free, or exceed the count
  // allowed on top of what is open now.
  const int64_t first_refused =
      std::min<int64_t>(budget.limit - budget.reserved(),
                        int64_t{OpenFdCount()} + budget.connections);
  g_first_refused_fd =
      static_cast<int>(std::clamp<int64_t>(first_refused, 0, INT_MAX));
}

uint64_t ShedConnections() { return g_shed.load(); }

}  // namespace achilles::server_internal

// gRPC 1.51 accepts with accept4() (src/core/lib/iomgr/
// socket_utils_linux.cc) and gives up on its listener for good on any error
// but EAGAIN, EINTR and ECONNABORTED. This definition in the executable
// takes the place of libc's for the whole process: it keeps the listener
// to its share of descriptors, and reports EMFILE / ENFILE as EAGAIN once
// the pending connections are shed, so the listener lives on and accepts
// again when descriptors return.
extern "C" int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  namespace si = achilles::server_internal;
  for (;;) {
    const int c = si::RealAccept4(fd, addr, len, flags);
    if (c >= 0) {
      if (c < si::g_first_refused_fd.load(std::memory_order_relaxed)) {
        return c;
      }
      close(c);
      si::NoteShed();
      continue;  // The next pending connection, or EAGAIN.
    }
    if (errno != EMFILE && errno != ENFILE) return c;
    if (si::g_first_refused_fd.load() == INT_MAX) return c;  // No guard.
    if (!si::ShedWithSpare(fd)) {
      errno = EAGAIN;
      return -1;
    }
  }
}
