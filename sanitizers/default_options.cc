// Default runtime options of the sanitizer builds (CMAKE_BUILD_TYPE=Asan or
// Tsan). Linked into every executable of those builds, so a test run by
// ctest, by hand, or started as a child process (achilles-server,
// achilles-plugin-worker) behaves the same. ASAN_OPTIONS, UBSAN_OPTIONS,
// LSAN_OPTIONS and TSAN_OPTIONS in the environment still override these
// (for triage, e.g. TSAN_OPTIONS=halt_on_error=0:log_path=/tmp/tsan).
//
// ACH_SANITIZER_DIR (set by CMake) is this directory in the source tree,
// where the commented suppression files live.

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef ACH_SANITIZER_DIR
#error "ACH_SANITIZER_DIR must name the directory of the suppression files"
#endif

extern "C" {

namespace {
// True in achilles-plugin-worker. Called before the runtime is set up: raw
// system calls only.
__attribute__((no_sanitize("address", "thread", "undefined"))) bool
IsPluginWorker() {
  static const char kName[] = "/achilles-plugin-worker";
  char exe[4096];
  const long n = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof exe);
  const long k = static_cast<long>(sizeof kName) - 1;
  if (n < k) return false;
  for (long i = 0; i < k; ++i) {
    if (exe[n - k + i] != kName[i]) return false;
  }
  return true;
}
}  // namespace

#if defined(ACH_SANITIZER_ASAN)
// verify_asan_link_order=0: the power-loss test preloads its own shim
// (tests/power_loss) ahead of the ASan runtime; the shim only forwards to the
// next definition, so ASan's interceptors still run.
// The plugin worker exists to die by the signal a crashing plugin raises,
// which the host reports ("killed by signal 11", tests/plugins); there ASan
// must not turn SIGSEGV into a report and exit status 1. Memory errors in
// plugin code are still reported there.
__attribute__((no_sanitize("address", "undefined"))) const char*
__asan_default_options() {
  return IsPluginWorker()
             ? "verify_asan_link_order=0:detect_leaks=1:handle_segv=0:"
               "check_initialization_order=1:strict_init_order=1"
             : "verify_asan_link_order=0:detect_leaks=1:"
               "check_initialization_order=1:strict_init_order=1";
}
const char* __lsan_default_options() {
  return "suppressions=" ACH_SANITIZER_DIR "/lsan.supp";
}
const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1";
}
#endif

#if defined(ACH_SANITIZER_TSAN)
// halt_on_error=1: a race in a server process that a test later SIGKILLs
// would otherwise only be printed, never fail anything.
// history_size=4 (512K accesses per thread, default 128K): gRPC's call
// objects live across many accesses, and a report whose earlier access can
// no longer be restored cannot be matched by the suppressions that name
// gRPC's frames.
// handle_segv=0 in the plugin worker, as for ASan above: it must die by the
// signal a crashing plugin raises, not exit 66 with a TSan "SEGV" report.
// Races in the worker are still reported.
__attribute__((no_sanitize("address", "thread", "undefined"))) const char*
__tsan_default_options() {
  return IsPluginWorker() ? "halt_on_error=1:second_deadlock_stack=1:"
                            "history_size=4:handle_segv=0:"
                            "suppressions=" ACH_SANITIZER_DIR "/tsan.supp"
                          : "halt_on_error=1:second_deadlock_stack=1:"
                            "history_size=4:suppressions=" ACH_SANITIZER_DIR
                            "/tsan.supp";
}
#endif

// RLIMIT_AS cannot work as such under ASan or TSan: their shadow memory and
// allocator reserve terabytes of address space at start-up, so the plugin
// worker's limit (plugins/host/worker_main.cc, 1 GiB by default) would make
// every later mapping fail. In these builds only, a limit on address space
// means "this much more than is mapped now", which keeps its purpose: a
// plugin that leaks hits it (tests/plugins/isolation_test.cc) and the worker
// dies, not the server. Other resources pass through unchanged.
// The sanitizer runtimes call setrlimit themselves before they are set up,
// so this function is not instrumented and uses raw system calls only.
__attribute__((no_sanitize("address", "thread", "undefined"))) int setrlimit(
    __rlimit_resource_t resource, const struct rlimit* limit) noexcept {
  struct rlimit adjusted = *limit;
  if (resource == RLIMIT_AS && limit->rlim_cur != RLIM_INFINITY) {
    unsigned long long pages = 0;  // First field of statm: VmSize in pages.
    char buf[64];
    const long fd = syscall(SYS_open, "/proc/self/statm", O_RDONLY);
    if (fd >= 0) {
      const long n = syscall(SYS_read, fd, buf, sizeof buf);
      syscall(SYS_close, fd);
      for (long i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) {
        pages = pages * 10 + static_cast<unsigned long long>(buf[i] - '0');
      }
    }
    const unsigned long long in_use = pages * 4096;
    adjusted.rlim_cur = limit->rlim_cur + in_use;
    if (limit->rlim_max != RLIM_INFINITY) {
      adjusted.rlim_max = limit->rlim_max + in_use;
    }
  }
  return static_cast<int>(syscall(SYS_prlimit64, 0, static_cast<int>(resource),
                                  &adjusted, nullptr));
}

}  // extern "C"
