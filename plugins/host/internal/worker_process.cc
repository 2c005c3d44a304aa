#include "plugins/host/internal/worker_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
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
  // The worker confines itself (sandbox.h) before it loads the plugin.
  const std::string limit = std::to_string(config.memory_limit_bytes);
  const std::string cpu = std::to_string(config.cpu_seconds);
  const std::string uid = std::to_string(config.run_as_uid);
  const std::string gid = std::to_string(config.run_as_gid);
  const std::string parent = std::to_string(getpid());
  const char* argv[] = {config.worker_binary.c_str(),
                        config.plugin_path.c_str(),
                        limit.c_str(),
                        cpu.c_str(),
                        uid.c_str(),
                        gid.c_str(),
                        parent.c_str(),
                        nullptr};
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
  w->cpu_seconds_ = config.cpu_seconds;
  auto frame = ReadFrame(w->fd_, absl::Now() + config.start_timeout);
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
  rusage usage{};
  while (wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return HowItEnded(status, usage, kill_first);
}

std::string WorkerProcess::HowItEnded(int status, const rusage& usage,
                                      bool killed_by_us) const {
  if (WIFEXITED(status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(status));
  }
  if (!WIFSIGNALED(status)) return "ended";
  const int sig = WTERMSIG(status);
  std::string how =
      absl::StrCat("killed by signal ", sig, " (", strsignal(sig), ")");
  const absl::Duration cpu = absl::DurationFromTimeval(usage.ru_utime) +
                             absl::DurationFromTimeval(usage.ru_stime);
  // SIGXCPU at the soft limit, SIGKILL at the hard one (soft + 1 s) for a
  // plugin that ignored the first.
  const bool cpu_limit =
      cpu_seconds_ > 0 &&
      (sig == SIGXCPU ||
       (sig == SIGKILL && !killed_by_us && cpu >= absl::Seconds(cpu_seconds_)));
  if (cpu_limit) {
    absl::StrAppend(&how, ": it used up its CPU time limit of ", cpu_seconds_,
                    " s");
  }
  return how;
}

absl::Duration WorkerProcess::CpuUsed() const {
  clockid_t clock;
  timespec ts{};
  if (pid_ <= 0 || clock_getcpuclockid(pid_, &clock) != 0 ||
      clock_gettime(clock, &ts) != 0) {
    return absl::ZeroDuration();
  }
  return absl::DurationFromTimespec(ts);
}

bool WorkerProcess::EndedWhileIdle(std::string* how) {
  if (pid_ <= 0) return false;
  int status = 0;
  rusage usage{};
  if (wait4(pid_, &status, WNOHANG, &usage) != pid_) return false;
  pid_ = -1;
  close(fd_);
  fd_ = -1;
  *how = HowItEnded(status, usage, /*killed_by_us=*/false);
  return true;
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

std::unique_ptr<WorkerProcess> WorkerPool::TakeIdle() {
  while (!idle_.empty()) {
    std::unique_ptr<WorkerProcess> worker = std::move(idle_.back());
    idle_.pop_back();
    std::string how;
    if (!worker->EndedWhileIdle(&how)) return worker;
    --live_;
    // Not the next caller's fault: it gets a fresh worker instead.
    Log(LogLevel::kWarning, "plugin worker for ", config_.plugin_path,
        " ended while idle: ", how);
  }
  return nullptr;
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
    worker = TakeIdle();
    if (worker == nullptr) {
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
  // CPU time adds up over a worker's life: retire it at half its limit, so
  // any call that needs less than half never meets the limit.
  if (worker->alive() && config_.cpu_seconds > 0 &&
      worker->CpuUsed() * 2 >= absl::Seconds(config_.cpu_seconds)) {
    worker.reset();
  }
  absl::MutexLock lock(&mu_);
  if (worker != nullptr && worker->alive()) {
    idle_.push_back(std::move(worker));
  } else {
    --live_;
  }
  return reply;
}

}  // namespace achilles::plugins_internal
