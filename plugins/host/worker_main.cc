// achilles-plugin-worker: hosts one plugin in its own process for
// --plugin_isolation=process, so a plugin that crashes, leaks, hangs or
// spins costs a worker, never the server, and can reach nothing the server
// can.
//
//   achilles-plugin-worker PLUGIN.so MEMORY_LIMIT_BYTES CPU_SECONDS
//                          RUN_AS_UID RUN_AS_GID SERVER_PID
//   (started by the server only; -1 for the uid and gid = stay)
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
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

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
#include "achilles/plugin_abi.h"
#include "achilles/v1/plugin.pb.h"
#include "plugins/host/internal/frame_io.h"
#include "plugins/host/internal/info_check.h"
#include "plugins/host/internal/plugin_buffer.h"
#include "plugins/host/internal/sandbox.h"

namespace {

namespace pi = ::achilles::plugins_internal;

int SendHello(int fd, const achilles::v1::WorkerHello& hello) {
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

std::string DlopenFailure(const std::string& path) {
  const char* err = dlerror();
  std::string reason =
      absl::StrCat("dlopen failed: ", err != nullptr ? err : "unknown");
  if (access(path.c_str(), R_OK) != 0) {
    absl::StrAppend(&reason, " (the plugin user, uid ", getuid(),
                    ", cannot read the server's private copy)");
  }
  return reason;
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

// Loads the plugin and checks its info; fills the hello either way.
const ach_type_plugin_info* LoadPlugin(const std::string& path,
                                       achilles::v1::WorkerHello* hello) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    hello->set_reason(DlopenFailure(path));
    return nullptr;
  }
  void* sym = dlsym(handle, ACH_ENTRY_SYMBOL);
  if (sym == nullptr) {
    hello->set_reason(std::string("does not export the entry symbol ") +
                      ACH_ENTRY_SYMBOL + " (use ACH_EXPORT_PLUGIN)");
    return nullptr;
  }
  const ach_type_plugin_info* info =
      reinterpret_cast<ach_type_on_get_info>(sym)();
  pi::Manifest m;
  absl::Status st = pi::CheckInfo(info, &m);
  hello->set_abi_version(m.abi_version);
  if (!st.ok()) {
    hello->set_reason(std::string(st.message()));
    return nullptr;
  }
  hello->set_ok(true);
  hello->set_plugin_id(m.id);
  hello->set_version(m.version);
  hello->set_display_name(m.display_name);
  for (const auto& p : m.protocols) hello->add_protocols(p);
  for (const auto& k : m.event_kinds) hello->add_event_kinds(k);
  return info;
}

// Runs one request. The response is copied without trusting the size the
// plugin claims, so a lie is an error reply rather than a read past its
// buffer.
achilles::v1::WorkerReply Evaluate(const ach_type_plugin_info* info,
                                   const std::string& request) {
  achilles::v1::WorkerReply reply;
  uint8_t* out = nullptr;
  size_t out_size = 0;
  char error[ACH_MAX_ERROR_LEN] = {0};
  const ach_type_rc rc =
      info->on_evaluate(reinterpret_cast<const uint8_t*>(request.data()),
                        request.size(), &out, &out_size, error, sizeof error);
  error[sizeof error - 1] = '\0';
  reply.set_rc(rc);
  reply.set_error(error);
  if (out != nullptr) {
    std::string bytes;
    absl::Status st = pi::CopyPluginBuffer(out, out_size, &bytes);
    info->on_free(out);
    if (!st.ok()) {
      reply.set_rc(ACH_RC_PLUGIN_ERROR);
      reply.set_error(std::string(st.message()));
    } else {
      reply.set_response(std::move(bytes));
    }
  }
  return reply;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "achilles-plugin-worker is started by achilles-server\n");
    return 2;
  }
  const pid_t server = static_cast<pid_t>(std::strtol(argv[6], nullptr, 10));
  if (getppid() != server) return 1;  // Server already gone.
  const unsigned long long limit = std::strtoull(argv[2], nullptr, 10);
  if (limit > 0) {
    rlimit rl{limit, limit};
    setrlimit(RLIMIT_AS, &rl);
  }
  // Keep the protocol socket away from fds 0 and 1, so a plugin that prints
  // or reads the console cannot corrupt the frames.
  const int fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
  const int devnull = open("/dev/null", O_RDONLY);
  dup2(devnull, 0);
  dup2(2, 1);
  ResetSignals();
  const std::string plugin = EnterPluginDirectory(argv[1]);

  achilles::v1::WorkerHello hello;
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
  const ach_type_plugin_info* info = LoadPlugin(plugin, &hello);
  if (info != nullptr && !report.skipped.empty()) {
    hello.set_reason(
        absl::StrCat("sandbox notes: ", absl::StrJoin(report.skipped, "; ")));
  }
  const int sent = SendHello(fd, hello);
  if (sent != 0 || info == nullptr) return sent;

  for (;;) {
    auto request = pi::ReadFrame(fd, absl::InfiniteFuture());
    if (!request.ok()) return 0;  // The server closed the connection.
    const achilles::v1::WorkerReply reply = Evaluate(info, *request);
    if (!pi::WriteFrame(fd, reply.SerializeAsString()).ok()) return 0;
  }
}
