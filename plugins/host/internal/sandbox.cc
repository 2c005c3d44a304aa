#include "plugins/host/internal/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

// Debian 12's kernel headers stop at Landlock ABI 2; the kernels it runs on
// may be newer. These values are the kernel's uapi and never change.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#define ACH_LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define ACH_LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define ACH_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define ACH_LANDLOCK_SCOPE_SIGNAL (1ULL << 1)

namespace achilles::plugins_internal {
namespace {

absl::Status StepFailed(absl::string_view step, int err) {
  return absl::FailedPreconditionError(
      absl::StrCat("sandbox: ", step, ": ", std::strerror(err)));
}

absl::Status SetLimits(int cpu_seconds) {
  // No core files: a crashed plugin's memory holds patient data.
  const rlimit core{0, 0};
  if (setrlimit(RLIMIT_CORE, &core) != 0) {
    return StepFailed("RLIMIT_CORE", errno);
  }
  if (cpu_seconds <= 0) return absl::OkStatus();
  // Soft below hard: SIGXCPU first (its default action ends the process),
  // SIGKILL a second later for a plugin that catches or blocks it.
  const rlimit cpu{static_cast<rlim_t>(cpu_seconds),
                   static_cast<rlim_t>(cpu_seconds) + 1};
  if (setrlimit(RLIMIT_CPU, &cpu) != 0) return StepFailed("RLIMIT_CPU", errno);
  return absl::OkStatus();
}

// Gives up the capabilities a new user namespace grants: the worker needs
// none, and the namespace it owns (the network one) stays untouched.
absl::Status ClearCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capset, &header, data) != 0) {
    return StepFailed("capset", errno);
  }
  return absl::OkStatus();
}

// A fresh network namespace has one loopback, down: nothing to reach even
// through a socket the filter cannot stop (one made by a kernel interface
// newer than the filter).
absl::Status EnterNetworkNamespace(SandboxReport* report) {
  const bool root = geteuid() == 0;
  if (unshare(root ? CLONE_NEWNET : CLONE_NEWUSER | CLONE_NEWNET) != 0) {
    report->skipped.push_back(
        absl::StrCat("network namespace: ", std::strerror(errno),
                     root ? "" : " (unprivileged user namespaces may be off)"));
    return absl::OkStatus();
  }
  return root ? absl::OkStatus() : ClearCapabilities();
}

absl::Status DropUser(const SandboxConfig& config) {
  if (geteuid() != 0) {
    if (config.run_as_uid >= 0 && config.run_as_uid != geteuid()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sandbox: switching to uid ", config.run_as_uid, " needs root"));
    }
    return absl::OkStatus();
  }
  if (config.run_as_uid <= 0 || config.run_as_gid <= 0) {
    return absl::FailedPreconditionError(
        "sandbox: started as root with no other user to run the plugin as");
  }
  const uid_t uid = static_cast<uid_t>(config.run_as_uid);
  const gid_t gid = static_cast<gid_t>(config.run_as_gid);
  if (setgroups(0, nullptr) != 0) return StepFailed("setgroups", errno);
  if (setgid(gid) != 0) return StepFailed("setgid", errno);
  if (setuid(uid) != 0) return StepFailed("setuid", errno);
  // Trust the result, not the return codes: a partial switch would leave
  // root's groups or a saved root uid behind.
  if (getuid() != uid || geteuid() != uid || getgid() != gid ||
      getegid() != gid || getgroups(0, nullptr) != 0) {
    return absl::FailedPreconditionError(
        "sandbox: the user switch did not take effect");
  }
  if (setuid(0) == 0 || setgid(0) == 0) {
    return absl::FailedPreconditionError(
        "sandbox: root could be regained after the user switch");
  }
  return absl::OkStatus();
}

// Mirrors struct landlock_ruleset_attr of the newest ABI used here; older
// kernels are given the prefix they know.
struct LandlockRuleset {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

LandlockRuleset RulesetFor(int abi, size_t* size) {
  LandlockRuleset r{};
  r.handled_access_fs =
      LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
      LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
      LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
      LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
      LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2) r.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) r.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
  *size = sizeof(uint64_t);
  if (abi >= 4) {
    r.handled_access_net =
        ACH_LANDLOCK_ACCESS_NET_BIND_TCP | ACH_LANDLOCK_ACCESS_NET_CONNECT_TCP;
    *size = 2 * sizeof(uint64_t);
  }
  if (abi >= 6) {
    // Signals: a worker running as the server's user could otherwise kill
    // the server (or its whole process group).
    r.scoped =
        ACH_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | ACH_LANDLOCK_SCOPE_SIGNAL;
    *size = sizeof(LandlockRuleset);
  }
  return r;
}

absl::Status RestrictWithLandlock(SandboxReport* report) {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0,
                           LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) {
    if (errno == ENOSYS || errno == EOPNOTSUPP) {
      report->skipped.push_back(
          absl::StrCat("landlock: ", std::strerror(errno)));
      return absl::OkStatus();
    }
    return StepFailed("landlock version", errno);
  }
  size_t size = 0;
  const LandlockRuleset ruleset = RulesetFor(static_cast<int>(abi), &size);
  const long fd = syscall(SYS_landlock_create_ruleset, &ruleset, size, 0);
  if (fd < 0) return StepFailed("landlock ruleset", errno);
  // No rules: every handled right is denied on every path. Reading and
  // executing are not handled, so the file modes alone decide them.
  const long rc = syscall(SYS_landlock_restrict_self, fd, 0);
  const int err = errno;
  close(static_cast<int>(fd));
  if (rc != 0) return StepFailed("landlock restrict", err);
  return absl::OkStatus();
}

struct Denial {
  const char* syscall;
  int err;
};

// Denied outright. A default-allow list of what a protocol plugin never
// needs, so plugins built with any toolchain keep working; each fails with
// an errno, never kills, so the plugin can report what it was refused.
constexpr Denial kDenied[] = {
    // Network. The worker's one socket is the inherited socketpair. AF_UNIX
    // is denied too: path sockets reach local daemons from any namespace.
    // io_uring can open and connect sockets without these syscalls.
    {"socket", EPERM},
    {"io_uring_setup", EPERM},
    // Changes to the filesystem (opens with write flags are below).
    {"creat", EACCES},
    {"truncate", EACCES},
    {"ftruncate", EACCES},
    {"fallocate", EACCES},
    {"unlink", EACCES},
    {"unlinkat", EACCES},
    {"rmdir", EACCES},
    {"rename", EACCES},
    {"renameat", EACCES},
    {"renameat2", EACCES},
    {"mkdir", EACCES},
    {"mkdirat", EACCES},
    {"link", EACCES},
    {"linkat", EACCES},
    {"symlink", EACCES},
    {"symlinkat", EACCES},
    {"mknod", EACCES},
    {"mknodat", EACCES},
    {"chmod", EACCES},
    {"fchmod", EACCES},
    {"fchmodat", EACCES},
    {"chown", EACCES},
    {"fchown", EACCES},
    {"lchown", EACCES},
    {"fchownat", EACCES},
    {"utime", EACCES},
    {"utimes", EACCES},
    {"utimensat", EACCES},
    {"futimesat", EACCES},
    {"setxattr", EACCES},
    {"lsetxattr", EACCES},
    {"fsetxattr", EACCES},
    {"removexattr", EACCES},
    {"lremovexattr", EACCES},
    {"fremovexattr", EACCES},
    {"open_by_handle_at", EACCES},
    // openat2's flags sit in a struct a filter cannot read; ENOSYS makes
    // callers fall back to openat, whose flags it can.
    {"openat2", ENOSYS},
    // No programs and no processes; threads are fine (clone below). clone3
    // keeps its flags in a struct too: glibc falls back to clone on ENOSYS.
    {"execve", EPERM},
    {"execveat", EPERM},
    {"fork", EPERM},
    {"vfork", EPERM},
    {"clone3", ENOSYS},
    // Other processes and the kernel's own state.
    {"ptrace", EPERM},
    {"process_vm_writev", EPERM},
    {"tkill", EPERM},
    {"pidfd_open", EPERM},
    {"pidfd_getfd", EPERM},
    {"pidfd_send_signal", EPERM},
    {"unshare", EPERM},
    {"setns", EPERM},
    {"mount", EPERM},
    {"umount2", EPERM},
    {"pivot_root", EPERM},
    {"chroot", EPERM},
    {"bpf", EPERM},
    {"perf_event_open", EPERM},
    {"userfaultfd", EPERM},
    {"keyctl", EPERM},
    {"add_key", EPERM},
    {"request_key", EPERM},
};

using SeccompCtx = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

// Adds one rule; a syscall this architecture does not have is skipped.
int AddRule(scmp_filter_ctx ctx, const char* name, int err,
            unsigned arg_count = 0, scmp_arg_cmp cmp = {}) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr < 0) return 0;
  return arg_count == 0
             ? seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 0)
             : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 1, cmp);
}

// Rules that look at arguments.
int AddArgumentRules(scmp_filter_ctx ctx) {
  int rc = 0;
  // A read-only view: any open that could write or create fails.
  for (const int flag : {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC}) {
    const auto f = static_cast<scmp_datum_t>(flag);
    rc |= AddRule(ctx, "open", EACCES, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, f, f));
    rc |= AddRule(ctx, "openat", EACCES, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, f, f));
  }
  // clone without CLONE_THREAD makes a process (x86-64 and arm64 pass the
  // flags first).
  rc |= AddRule(ctx, "clone", EPERM, 1,
                SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
  // Signals and memory reads only within this process: raise() and abort()
  // keep working, the server and its process group are out of reach.
  const auto self = static_cast<scmp_datum_t>(getpid());
  for (const char* name : {"kill", "tgkill", "rt_sigqueueinfo",
                           "rt_tgsigqueueinfo", "process_vm_readv"}) {
    rc |= AddRule(ctx, name, EPERM, 1, SCMP_A0(SCMP_CMP_NE, self));
  }
  return rc;
}

absl::Status InstallSeccomp() {
  SeccompCtx ctx(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
  if (ctx == nullptr) {
    return absl::FailedPreconditionError("sandbox: seccomp_init failed");
  }
  int rc = AddArgumentRules(ctx.get());
  for (const Denial& d : kDenied) rc |= AddRule(ctx.get(), d.syscall, d.err);
  if (rc != 0) {
    return absl::FailedPreconditionError(
        "sandbox: could not build the seccomp filter");
  }
  if (const int err = seccomp_load(ctx.get()); err != 0) {
    return StepFailed("seccomp", -err);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplySandbox(const SandboxConfig& config, SandboxReport* report) {
  if (absl::Status st = SetLimits(config.cpu_seconds); !st.ok()) return st;
  // Before the user switch: only root may create a network namespace
  // without a user namespace around it.
  if (absl::Status st = EnterNetworkNamespace(report); !st.ok()) return st;
  if (absl::Status st = DropUser(config); !st.ok()) return st;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return StepFailed("no_new_privs", errno);
  }
  if (absl::Status st = RestrictWithLandlock(report); !st.ok()) return st;
  // Last: the filter denies unshare and friends that the steps above use.
  return InstallSeccomp();
}

}  // namespace achilles::plugins_internal
