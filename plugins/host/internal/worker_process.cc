#include "plugins/host/internal/worker_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "plugins/host/internal/frame_io.h"
#include "plugins/host/internal/plugin_metrics.h"

namespace achilles::plugins_internal {

namespace {

// Whether the server's environment variable `entry` ("NAME=value") is
// passed to workers. Only what locale, time and tooling need: the rest
// (NOTIFY_SOCKET, which would let plugin code talk to systemd as the
// server; credentials an operator exported) stays with the server.
bool PassedToWorkers(absl::string_view entry) {
  const absl::string_view name = entry.substr(0, entry.find('='));
  static constexpr absl::string_view kNames[] = {
      "PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "LD_LIBRARY_PATH"};
  for (absl::string_view allowed : kNames) {
    if (name == allowed) return true;
  }
  // Locale categories, and sanitizer settings (test builds).
  return absl::StartsWith(name, "LC_") || absl::EndsWith(name, "SAN_OPTIONS");
}

std::vector<char*> WorkerEnvironment() {
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (PassedToWorkers(*e)) env.push_back(*e);
  }
  env.push_back(nullptr);
  return env;
}

// Starts achilles-plugin-worker with `socket` as its stdin; posix_spawn's
// result. posix_spawn, not fork: it runs no pthread_atfork handlers (gRPC
// registers some) and copies nothing of this large, threaded process. The
// worker applies its own memory limit, watches for our death and confines
// itself (sandbox.h) before it loads the plugin.
int Spawn(const WorkerConfig& config, int socket, pid_t* pid) {
  const std::string limit = std::to_string(config.memory_limit_bytes);
  const std::string cpu = std::to_string(config.cpu_seconds);
  const std::string uid = std::to_string(config.run_as_uid);
  const std::string gid = std::to_string(config.run_as_gid);
  const std::string parent = std::to_string(getpid());
  // Lines a plugin logs through the host (plugin_log.h) obey our level.
  const std::string log_level = std::to_string(static_cast<int>(GetLogLevel()));
  const char* log_format = GetLogFormat() == LogFormat::kJson ? "json" : "text";
  const char* argv[] = {config.worker_binary.c_str(),
                        config.plugin_path.c_str(),
                        limit.c_str(),
                        cpu.c_str(),
                        uid.c_str(),
                        gid.c_str(),
                        parent.c_str(),
                        log_level.c_str(),
                        log_format,
                        nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, socket, 0);
  // Nothing else of the server's (client connections, store files) may
  // leak into plugin code.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  std::vector<char*> env = WorkerEnvironment();
  const int rc = posix_spawn(pid, argv[0], &actions, nullptr,
                             const_cast<char* const*>(argv), env.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerProcess>> WorkerProcess::Start(
    const WorkerConfig& config, internal::WorkerHello* hello) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::InternalError(
        absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  pid_t pid = -1;
  const int rc = Spawn(config, fds[1], &pid);
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
  if (!ReadFrame(w->fd_, absl::Now() + config.start_timeout, &w->frame_).ok()) {
    const std::string how = w->Reap(absl::InfinitePast());
    return absl::UnavailableError(
        absl::StrCat("plugin worker did not start (", how, ")"));
  }
  if (!hello->ParseFromArray(w->frame_.data(),
                             static_cast<int>(w->frame_.size()))) {
    w->Reap(absl::InfinitePast());
    return absl::InternalError("plugin worker sent a malformed hello");
  }
  return w;
}

WorkerProcess::~WorkerProcess() {
  // A worker let go while alive is idle: closing its socket lets it run the
  // plugin's on_shutdown and exit; one that takes longer is killed.
  if (pid_ > 0) Reap(absl::Now() + kShutdownGrace);
}

void WorkerProcess::BeginShutdown() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

std::string WorkerProcess::Reap(absl::Time kill_at) {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (pid_ <= 0) return "not running";
  int status = 0;
  rusage usage{};
  bool killed = false;
  for (;;) {
    // A worker that closed its end but lives on (a plugin closing the
    // socket, then hanging) is killed at the deadline, not waited for.
    if (!killed && absl::Now() >= kill_at) {
      kill(pid_, SIGKILL);
      killed = true;
    }
    const pid_t r = wait4(pid_, &status, killed ? 0 : WNOHANG, &usage);
    if (r == pid_ || (r < 0 && errno != EINTR)) break;
    if (r == 0) absl::SleepFor(absl::Milliseconds(1));
  }
  pid_ = -1;
  return HowItEnded(status, usage, killed);
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

absl::Status WorkerProcess::Send(absl::string_view request) {
  return WriteFrame(fd_, request);
}

absl::Status WorkerProcess::Receive(const absl::Status& sent,
                                    const CallDeadline& deadline,
                                    internal::WorkerReply* reply) {
  absl::Status st = sent.ok() ? ReadFrame(fd_, deadline.at, &frame_) : sent;
  if (!st.ok()) return Fail(st, deadline);
  if (!reply->ParseFromArray(frame_.data(), static_cast<int>(frame_.size()))) {
    Reap(absl::InfinitePast());
    return absl::InternalError("worker sent a malformed reply");
  }
  return absl::OkStatus();
}

absl::Status WorkerProcess::Fail(const absl::Status& io,
                                 const CallDeadline& deadline) {
  if (absl::IsDeadlineExceeded(io)) {
    Reap(absl::InfinitePast());
    return absl::DeadlineExceededError(absl::StrCat(
        "did not answer within ", absl::FormatDuration(deadline.timeout),
        "; its worker process was killed"));
  }
  if (!absl::IsUnavailable(io)) {  // A frame no worker of ours writes.
    Reap(absl::InfinitePast());
    return absl::InternalError(
        absl::StrCat("worker sent a malformed reply (", io.message(), ")"));
  }
  // The worker hung up mid-call: find out how, without killing first so a
  // crash reports its own signal.
  const std::string how = Reap(deadline.at);
  return absl::InternalError(absl::StrCat("worker process crashed: ", how));
}

// A request sent to a worker whose reply is still to be read.
class WorkerPool::Call final : public PendingCall {
 public:
  Call(std::shared_ptr<WorkerPool> pool, std::unique_ptr<WorkerProcess> worker,
       absl::Status sent, const CallDeadline& deadline)
      : pool_(std::move(pool)),
        worker_(std::move(worker)),
        sent_(std::move(sent)),
        deadline_(deadline) {}
  ~Call() override {
    // Never waited for: its reply may still come, so the worker goes.
    if (worker_ != nullptr) {
      RecordWorkerRestart(pool_->plugin(), "abandoned",
                          "its call was never collected");
      worker_.reset();
      pool_->Release(nullptr);
    }
  }

  absl::Status Wait() override {
    absl::Status st = worker_->Receive(sent_, deadline_, &reply_);
    if (!st.ok()) {  // Receive killed or reaped the worker.
      RecordWorkerRestart(pool_->plugin(),
                          absl::IsDeadlineExceeded(st) ? "timeout" : "crashed",
                          st.message());
    }
    pool_->Release(std::move(worker_));
    return st;
  }
  int rc() const override { return reply_.rc(); }
  absl::string_view error() const override { return reply_.error(); }
  absl::string_view response() const override { return reply_.response(); }

 private:
  std::shared_ptr<WorkerPool> pool_;
  std::unique_ptr<WorkerProcess> worker_;
  const absl::Status sent_;
  const CallDeadline deadline_;
  internal::WorkerReply reply_;
};

WorkerPool::~WorkerPool() {
  std::vector<std::unique_ptr<WorkerProcess>> idle;
  {
    absl::MutexLock lock(&mu_);
    idle.swap(idle_);
  }
  // Every worker starts its shutdown before any is waited for, so a pool
  // ends in one grace period, not one per worker.
  for (auto& worker : idle) worker->BeginShutdown();
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
    RecordWorkerRestart(plugin(), "ended_idle", how);
  }
  return nullptr;
}

absl::StatusOr<std::unique_ptr<PendingCall>> WorkerPool::Start(
    std::shared_ptr<const std::string> request, const CallDeadline& deadline) {
  // Refused before a worker is taken: no frame can carry it.
  if (request->size() > kMaxFrame) {
    return absl::InternalError("request larger than 64 MiB");
  }
  auto worker = Acquire(deadline.at);
  if (!worker.ok()) return worker.status();
  absl::Status sent = (*worker)->Send(*request);
  return std::make_unique<Call>(shared_from_this(), *std::move(worker),
                                std::move(sent), deadline);
}

absl::StatusOr<std::unique_ptr<WorkerProcess>> WorkerPool::Acquire(
    absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || live_ < config_.max_workers;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&available), deadline)) {
      return absl::DeadlineExceededError(
          "no worker process became free before the deadline");
    }
    if (auto worker = TakeIdle(); worker != nullptr) return worker;
    ++live_;  // Reserve the place; the start happens outside the lock.
  }
  internal::WorkerHello hello;
  auto started = WorkerProcess::Start(config_, &hello);
  if (started.ok() && hello.ok()) return started;
  absl::MutexLock lock(&mu_);
  --live_;
  return started.ok() ? absl::InternalError(absl::StrCat(
                            "worker refused the plugin: ", hello.reason()))
                      : started.status();
}

void WorkerPool::Release(std::unique_ptr<WorkerProcess> worker) {
  // CPU time adds up over a worker's life: retire it at half its limit, so
  // any call that needs less than half never meets the limit.
  if (worker != nullptr && worker->alive() && config_.cpu_seconds > 0 &&
      worker->CpuUsed() * 2 >= absl::Seconds(config_.cpu_seconds)) {
    RecordWorkerRestart(plugin(), "retired", "used half its CPU budget");
    worker.reset();
  }
  absl::MutexLock lock(&mu_);
  if (worker != nullptr && worker->alive()) {
    idle_.push_back(std::move(worker));
  } else {
    --live_;
  }
}

}  // namespace achilles::plugins_internal
