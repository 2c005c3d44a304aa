// achilles-plugin-worker: hosts one plugin in its own process for
// --plugin_isolation=process, so a plugin that crashes, leaks or hangs
// costs a worker, never the server.
//
//   achilles-plugin-worker PLUGIN.so MEMORY_LIMIT_BYTES SERVER_PID
//   (started by the server only)
//
// Talks frames (plugins/host/internal/frame_io.h) on the socket it was
// given as stdin: first a WorkerHello, then one WorkerReply per
// PluginRequest, until the server closes the socket.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "achilles/plugin_abi.h"
#include "achilles/v1/plugin.pb.h"
#include "plugins/host/internal/frame_io.h"
#include "plugins/host/internal/info_check.h"

namespace {

namespace pi = ::achilles::plugins_internal;

int SendHello(int fd, const achilles::v1::WorkerHello& hello) {
  return pi::WriteFrame(fd, hello.SerializeAsString()).ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr,
                 "achilles-plugin-worker is started by achilles-server\n");
    return 2;
  }
  // Die with the server. Not PR_SET_PDEATHSIG: that fires when the *thread*
  // that spawned us exits, and the server spawns workers from short-lived
  // threads. A watchdog notices reparenting instead, even while a plugin
  // call is stuck; a closed socket ends the loop below in the common case.
  const pid_t server = static_cast<pid_t>(std::strtol(argv[3], nullptr, 10));
  if (getppid() != server) return 1;  // Server already gone.
  std::thread([server] {
    while (getppid() == server) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    _exit(1);
  }).detach();
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

  achilles::v1::WorkerHello hello;
  void* handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    hello.set_reason(std::string("dlopen failed: ") + (err ? err : "unknown"));
    return SendHello(fd, hello);
  }
  void* sym = dlsym(handle, ACH_ENTRY_SYMBOL);
  if (sym == nullptr) {
    hello.set_reason(std::string("does not export the entry symbol ") +
                     ACH_ENTRY_SYMBOL + " (use ACH_EXPORT_PLUGIN)");
    return SendHello(fd, hello);
  }
  const ach_type_plugin_info* info =
      reinterpret_cast<ach_type_on_get_info>(sym)();
  pi::Manifest m;
  absl::Status st = pi::CheckInfo(info, &m);
  hello.set_abi_version(m.abi_version);
  if (!st.ok()) {
    hello.set_reason(std::string(st.message()));
    return SendHello(fd, hello);
  }
  hello.set_ok(true);
  hello.set_plugin_id(m.id);
  hello.set_version(m.version);
  hello.set_display_name(m.display_name);
  for (const auto& p : m.protocols) hello.add_protocols(p);
  for (const auto& k : m.event_kinds) hello.add_event_kinds(k);
  if (SendHello(fd, hello) != 0) return 1;

  for (;;) {
    auto request = pi::ReadFrame(fd, absl::InfiniteFuture());
    if (!request.ok()) return 0;  // The server closed the connection.
    achilles::v1::WorkerReply reply;
    uint8_t* out = nullptr;
    size_t out_size = 0;
    char error[ACH_MAX_ERROR_LEN] = {0};
    const ach_type_rc rc = info->on_evaluate(
        reinterpret_cast<const uint8_t*>(request->data()), request->size(),
        &out, &out_size, error, sizeof error);
    error[sizeof error - 1] = '\0';
    reply.set_rc(rc);
    reply.set_error(error);
    if (out != nullptr) {
      reply.set_response(reinterpret_cast<const char*>(out), out_size);
      info->on_free(out);
    }
    if (!pi::WriteFrame(fd, reply.SerializeAsString()).ok()) return 0;
  }
}
