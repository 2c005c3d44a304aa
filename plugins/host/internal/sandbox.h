// The confinement achilles-plugin-worker puts itself in before it loads a
// plugin, so even the plugin's constructors run confined. Internal to
// plugins/host (the worker and its tests).
//
// Steps, in order, each with what happens when it cannot be taken:
//   1. Limits: RLIMIT_CPU soft = cpu_seconds, hard = soft + 1 (SIGXCPU,
//      then SIGKILL for a plugin that ignores it), RLIMIT_CORE 0. Required.
//   2. A new network namespace with no interfaces but a down loopback: as
//      root directly, otherwise inside a new user namespace. Optional (the
//      seccomp filter denies socket() anyway); reported when skipped.
//   3. When started as root: setgroups({}), setgid, setuid to the configured
//      user, then verified (uid, gid and that root cannot be regained).
//      Required.
//   4. PR_SET_NO_NEW_PRIVS. Required.
//   5. Landlock: every filesystem write right (write, truncate, create,
//      remove, rename/link) denied everywhere, TCP bind/connect denied, and
//      signals and abstract unix sockets scoped to the worker. Optional when
//      the kernel has no Landlock (the seccomp filter covers writes);
//      reported when skipped.
//   6. A seccomp filter (see sandbox.cc for the list) that makes denied calls
//      fail with an errno, never kills. Required.
//
// Thread-safety: call ApplySandbox while the process has one thread.
// Landlock (before ABI 8) restricts only the calling thread; threads started
// afterwards inherit every step.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_SANDBOX_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_SANDBOX_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace achilles::plugins_internal {

struct SandboxConfig {
  // RLIMIT_CPU over the worker's life; 0 = no CPU limit.
  int cpu_seconds = 0;
  // The user to become when running as root; -1 = stay (only allowed when
  // not root).
  int64_t run_as_uid = -1;
  int64_t run_as_gid = -1;
};

// Optional steps that were skipped, each "step: why", for the log.
struct SandboxReport {
  std::vector<std::string> skipped;
};

// Applies the steps above. OK: every required step holds (see `report` for
// optional ones). Otherwise FAILED_PRECONDITION naming the failed step and
// errno; the process is then partly confined and must not load the plugin.
absl::Status ApplySandbox(const SandboxConfig& config, SandboxReport* report);

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_SANDBOX_H_
