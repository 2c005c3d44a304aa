#include "plugins/host/internal/worker_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "plugins/host/internal/frame_io.h"

namespace achilles::plugins_internal {

absl::StatusOr<std::unique_ptr<WorkerProcess>> WorkerProcess::Start(
    const WorkerConfig& config, v1::WorkerHello* hello) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::InternalError(
        absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  // posix_spawn, not fork: it runs no pthread_atfork handlers (gRPC
  // registers some) and copies nothing of this large, threaded process.
  // The worker applies its own memory limit and watches for our death.
  const std::string limit = std::to_string(config.memory_limit_bytes);
  const std::string parent = std::to_string(getpid());
  const char* argv[] = {config.worker_binary.c_str(),
                        config.plugin_path.c_str(), limit.c_str(),
                        parent.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 0);
  // Nothing else of the server's (client connections, store files) may
  // leak into plugin code.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr,
                             const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot start ", config.worker_binary, ": ", std::strerror(rc)));
  }
  close(fds[1]);
  std::unique_ptr<WorkerProcess> w(new WorkerProcess());
  w->pid_ = pid;
  w->fd_ = fds[0];
  auto frame = ReadFrame(w->fd_, absl::Now() + absl::Seconds(10));
  if (!frame.ok()) {
    const std::string how = w->Reap(true);
    return absl::UnavailableError(
        absl::StrCat("plugin worker did not start (", how, ")"));
  }
  if (!hello->ParseFromString(*frame)) {
    w->Reap(true);
    return absl::InternalError("plugin worker sent a malformed hello");
  }
  return w;
}

WorkerProcess::~WorkerProcess() {
  if (pid_ > 0) Reap(true);
}

std::string WorkerProcess::Reap(bool kill_first) {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (pid_ <= 0) return "not running";
  if (kill_first) kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return absl::StrCat("killed by signal ", sig, " (", strsignal(sig), ")");
  }
  if (WIFEXITED(status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(status));
  }
  return "ended";
}

absl::StatusOr<v1::WorkerReply> WorkerProcess::Call(const std::string& request,
                                                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status st = WriteFrame(fd_, request);
  absl::StatusOr<std::string> frame =
      st.ok() ? ReadFrame(fd_, deadline) : absl::StatusOr<std::string>(st);
  if (!frame.ok()) {
    if (absl::IsDeadlineExceeded(frame.status())) {
      Reap(true);
      return absl::DeadlineExceededError(
          absl::StrCat("did not answer within ", absl::FormatDuration(timeout),
                       "; its worker process was killed"));
    }
    // The worker died mid-call: find out how, without killing first so a
    // crash reports its own signal.
    const std::string how = Reap(false);
    return absl::InternalError(absl::StrCat("worker process crashed: ", how));
  }
  v1::WorkerReply reply;
  if (!reply.ParseFromString(*frame)) {
    Reap(true);
    return absl::InternalError("worker sent a malformed reply");
  }
  return reply;
}

WorkerPool::~WorkerPool() {
  absl::MutexLock lock(&mu_);
  idle_.clear();
}

void WorkerPool::Adopt(std::unique_ptr<WorkerProcess> worker) {
  absl::MutexLock lock(&mu_);
  ++live_;
  idle_.push_back(std::move(worker));
}

absl::StatusOr<v1::WorkerReply> WorkerPool::Call(const std::string& request,
                                                 absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::unique_ptr<WorkerProcess> worker;
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || live_ < config_.max_workers;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&available), deadline)) {
      return absl::DeadlineExceededError(
          "no worker process became free before the deadline");
    }
    if (!idle_.empty()) {
      worker = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++live_;  // Reserve the slot; the start happens outside the lock.
    }
  }
  if (worker == nullptr) {
    v1::WorkerHello hello;
    auto started = WorkerProcess::Start(config_, &hello);
    if (!started.ok() || !hello.ok()) {
      absl::MutexLock lock(&mu_);
      --live_;
      return started.ok() ? absl::InternalError(absl::StrCat(
                                "worker refused the plugin: ", hello.reason()))
                          : started.status();
    }
    worker = *std::move(started);
  }
  auto reply = worker->Call(request, deadline - absl::Now());
  absl::MutexLock lock(&mu_);
  if (worker->alive()) {
    idle_.push_back(std::move(worker));
  } else {
    --live_;
  }
  return reply;
}

}  // namespace achilles::plugins_internal
