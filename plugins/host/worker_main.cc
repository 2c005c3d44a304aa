// achilles-plugin-worker: hosts one plugin in its own process for
// --plugin_isolation=process, so a plugin that crashes, leaks, hangs or
// spins costs a worker, never the server, and can reach nothing the server
// can.
//
//   achilles-plugin-worker PLUGIN MEMORY_LIMIT_BYTES CPU_SECONDS
//                          RUN_AS_UID RUN_AS_GID SERVER_PID LOG_LEVEL
//   (started by the server only; -1 for the uid and gid = stay; PLUGIN is
//   a .so or a NAME.protocol.yaml file; LOG_LEVEL the server's, 0 debug ..
//   3 error)
//
// Before the plugin is loaded (so its constructors are confined too) the
// worker sandboxes itself: see plugins/host/internal/sandbox.h. A required
// step that fails is the WorkerHello's reason and the plugin is refused;
// optional steps that were skipped are listed in the reason of an ok hello
// ("sandbox notes: ...") for the server to log.
//
// Talks frames (plugins/host/internal/frame_io.h) on the socket it was
// given as stdin: first a WorkerHello, then one WorkerReply per
// PluginRequest, until the server closes the socket.
//
// Plugin lifecycle (ABI 1.1): on_init runs right after the plugin loads,
// before the hello (a refusal is the hello's reason); on_shutdown when the
// server closes the socket, before the worker exits. What a plugin logs
// through the host goes to this process's stderr, which is the server's,
// in the server's line format (plugin_log.h).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "achilles/internal/worker.pb.h"
#include "achilles/v1/plugin.pb.h"
#include "common/log.h"
#include "plugins/host/internal/byte_buffer.h"
#include "plugins/host/internal/frame_io.h"
#include "plugins/host/internal/plugin_library.h"
#include "plugins/host/internal/protocol_library.h"
#include "plugins/host/internal/sandbox.h"

namespace {

namespace pi = ::achilles::plugins_internal;

int SendHello(int fd, const achilles::internal::WorkerHello& hello) {
  return pi::WriteFrame(fd, hello.SerializeAsString()).ok() ? 0 : 1;
}

// Die with the server. Not PR_SET_PDEATHSIG: that fires when the *thread*
// that spawned us exits, and the server spawns workers from short-lived
// threads. A watchdog notices reparenting instead, even while a plugin
// call is stuck; a closed socket ends the serving loop in the common case.
void WatchServer(pid_t server) {
  std::thread([server] {
    while (getppid() == server) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    _exit(1);
  }).detach();
}

// The server blocks its own signals in every thread, and posix_spawn hands
// that mask on: SIGXCPU must act, with its default action, for the CPU
// limit to end a spinning plugin.
void ResetSignals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGXCPU, SIG_DFL);
}

// Enters the plugin's directory while still the server's user and returns
// the path to load relative to it: the plugin user then needs to search
// only that directory, not every one above it (TMPDIR may be private).
std::string EnterPluginDirectory(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return path;
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  if (chdir(dir.c_str()) != 0) return path;
  return "./" + path.substr(slash + 1);
}

// A protocol file or a shared object, told apart by name (the server's
// private copy keeps the suffix).
absl::StatusOr<std::unique_ptr<pi::PluginCode>> OpenPlugin(
    const std::string& path, achilles::plugins::PluginManifest* manifest) {
  if (pi::IsProtocolFile(path)) {
    return pi::ProtocolLibrary::Open(path, path, manifest);
  }
  return pi::PluginLibrary::Open(path, path, pi::PluginLibrary::Opener::kHere,
                                 absl::InfiniteDuration(), manifest);
}

// Answers requests until the server closes the socket. The buffers live
// as long as the loop: a call allocates only for a message larger than any
// before it.
int Serve(int fd, const pi::PluginCode& plugin) {
  pi::ByteBuffer request;
  pi::PluginReply answer;
  achilles::internal::WorkerReply reply;
  std::string frame;
  for (;;) {
    if (!pi::ReadFrame(fd, absl::InfiniteFuture(), &request).ok()) {
      return 0;  // The server closed the connection.
    }
    plugin.Evaluate(request.view(), &answer);
    reply.set_rc(answer.rc);
    reply.set_error(answer.error);
    reply.set_response(answer.response.data(), answer.response.size());
    reply.SerializeToString(&frame);
    if (!pi::WriteFrame(fd, frame).ok()) return 0;
  }
}

void LimitMemory(unsigned long long bytes) {
  if (bytes == 0) return;
  rlimit rl{bytes, bytes};
  setrlimit(RLIMIT_AS, &rl);
}

// Keeps the protocol socket (stdin as started) away from fds 0 and 1, so a
// plugin that prints or reads the console cannot corrupt the frames; stdout
// joins stderr. Returns the socket's new fd.
int MoveSocketAside() {
  const int fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
  const int devnull = open("/dev/null", O_RDONLY);
  dup2(devnull, 0);
  // Plugin code gets no spare fds; one of 0-2 (a server started with a
  // standard stream closed) is kept in its place.
  if (devnull > 2) close(devnull);
  dup2(2, 1);
  return fd;
}

// The server's log level as it passed it (0 debug .. 3 error), clamped.
achilles::LogLevel LogLevelFrom(const char* arg) {
  const long level = std::strtol(arg, nullptr, 10);
  return static_cast<achilles::LogLevel>(std::clamp(level, 0L, 3L));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr,
                 "achilles-plugin-worker is started by achilles-server\n");
    return 2;
  }
  const pid_t server = static_cast<pid_t>(std::strtol(argv[6], nullptr, 10));
  if (getppid() != server) return 1;  // Server already gone.
  achilles::SetLogLevel(LogLevelFrom(argv[7]));
  // And its line format, so a JSON log stays JSON through plugin lines.
  achilles::SetLogFormat(std::strcmp(argv[8], "json") == 0
                             ? achilles::LogFormat::kJson
                             : achilles::LogFormat::kText);
  LimitMemory(std::strtoull(argv[2], nullptr, 10));
  const int fd = MoveSocketAside();
  ResetSignals();
  const std::string path = EnterPluginDirectory(argv[1]);

  achilles::internal::WorkerHello hello;
  pi::SandboxConfig sandbox;
  sandbox.cpu_seconds = static_cast<int>(std::strtol(argv[3], nullptr, 10));
  sandbox.run_as_uid = std::strtoll(argv[4], nullptr, 10);
  sandbox.run_as_gid = std::strtoll(argv[5], nullptr, 10);
  pi::SandboxReport report;
  // Fail closed: a plugin is never loaded into a half-built sandbox.
  if (absl::Status st = pi::ApplySandbox(sandbox, &report); !st.ok()) {
    hello.set_reason(std::string(st.message()));
    return SendHello(fd, hello);
  }
  // Started after the sandbox, so it shares it (see sandbox.h).
  WatchServer(server);
  achilles::plugins::PluginManifest manifest;
  auto plugin = OpenPlugin(path, &manifest);
  hello = pi::HelloFor(plugin.status(), manifest);
  if (plugin.ok() && !report.skipped.empty()) {
    hello.set_reason(
        absl::StrCat("sandbox notes: ", absl::StrJoin(report.skipped, "; ")));
  }
  const int sent = SendHello(fd, hello);
  if (sent != 0 || !plugin.ok()) return sent;
  return Serve(fd, **plugin);
}
