// PluginHost: finds, verifies, loads and calls protocol plugins (.so files
// implementing plugins/sdk/include/achilles/plugin_abi.h). The only code in
// the project that calls dlopen.
//
// Protocol files (*.protocol.yaml, plugins/protocol_file) in the same
// directory are plugins too: admitted, digested, allowlisted, reloaded,
// listed, switched per clinic and run (in process or in workers) exactly
// like a .so; their ABI version reads "protocol-1".
//
// Loading: every *.so directly inside the plugin directory is checked (a
// regular file inside the directory, not world-writable, SHA-256 on the
// allowlist when one is set), copied to a private content-addressed path and
// dlopen'd from there with RTLD_LOCAL. The copy means a file replaced on disk
// never changes code that is running, and a changed file gets a fresh
// library instead of glibc's cached handle. The entry symbol, struct size,
// ABI version and manifest are checked before first use; a plugin failing any
// check is rejected with a reason naming the file, and never called.
//
// Calling: PluginSet::CallAll() hands every call of a batch over first and
// then collects the answers, so the plugins of one evaluation run at the
// same time; LoadedPlugin::Call() is a batch of one. Every call has its own
// deadline, and every failure (error code, malformed bytes, missing
// rationale, timeout, a worker that crashed, a response size larger than
// its buffer when that runs into unmapped memory) becomes that call's
// Status. In-process calls run on a few reused threads per plugin (at most
// HostOptions::workers_per_plugin at once, never one per call). A call past
// its deadline returns DEADLINE_EXCEEDED and leaves the plugin quarantined
// (UNAVAILABLE) until that call returns; its thread is abandoned to it and
// replaced. Isolated calls go to idle workers (one frame each way); a
// worker past its deadline is killed.
//
// Events: a plugin receives only the timeline events whose kind its
// manifest declares (EventKindFilter); see plugin_abi.h.
//
// Trust: in-process (kInProcess) plugins are trusted code. They share the
// server's memory, privileges and loader lock: a crash, _exit(), a lie
// about a response size that stays within mapped memory, or a thread still
// running when the library is unloaded takes the server down or corrupts
// it. Constructors and destructors run on one loader thread with a
// deadline (internal/loader.h), after a trial load in a throw-away worker
// when worker_binary is set: a constructor that crashes or hangs there is
// rejected before it reaches the server. One that hangs only in the server
// rejects the plugin at its deadline but holds glibc's loader lock, which
// other threads need now and then, until it returns. kProcess contains all of
// these and sandboxes each worker (internal/sandbox.h): a CPU time limit,
// no network, a read-only filesystem, another user when the server is
// root. See docs/SECURITY.md.
//
// Hot reload: Current() hands out an immutable PluginSet; Reload() builds a
// new one and swaps it in. Holders of the old set (in-flight evaluations)
// keep its libraries loaded until they let go; a call abandoned at its
// deadline holds its plugin's library itself, so it never runs unmapped
// code.
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef ACHILLES_PLUGINS_HOST_PLUGIN_HOST_H_
#define ACHILLES_PLUGINS_HOST_PLUGIN_HOST_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "achilles/plugin_abi.h"
#include "achilles/v1/events.pb.h"
#include "achilles/v1/plugin.pb.h"

namespace achilles::plugins_internal {
class PendingCall;
class PluginRunner;
struct WorkerConfig;
}  // namespace achilles::plugins_internal

namespace achilles::plugins {

enum class Isolation {
  // dlopen into the server: for trusted plugins only. Contains errors,
  // exceptions, garbage and hangs, not crashes or memory-safety lies.
  kInProcess,
  // Each plugin runs in sandboxed achilles-plugin-worker processes: a
  // crash, leak, hang or spin kills a worker, never the server.
  kProcess,
};

struct HostOptions {
  std::string plugin_dir;
  Isolation isolation = Isolation::kInProcess;
  // kProcess: the worker executable and its address-space limit.
  // kInProcess: when set, each plugin is first loaded in a throw-away
  // worker, and one whose constructors crash or hang there is rejected
  // before it is loaded into the server.
  std::string worker_binary;
  size_t worker_memory_limit_bytes = size_t{1} << 30;
  // How many calls of one plugin run at once: worker processes (kProcess)
  // or call threads (kInProcess). 0 = one per core (at least 2).
  int workers_per_plugin = 0;
  // CPU seconds one worker may use over its life (RLIMIT_CPU; 0 = none). A
  // worker past it is killed, which fails its call like a crash; one that
  // has used half is retired after its call, so a call that needs less
  // than half never meets the limit.
  int worker_cpu_seconds = 10;
  // The user workers run as when the server runs as root; empty = "nobody".
  // Not root itself. When the server is not root, empty or its own user.
  std::string worker_user;
  // kInProcess: how long a plugin's constructors (dlopen, and the trial
  // load) may take before the plugin is rejected.
  absl::Duration load_timeout = absl::Seconds(10);
  // Per-call deadline.
  absl::Duration call_timeout = absl::Seconds(2);
  // When non-empty, only files whose SHA-256 (lower-case hex) is listed load.
  std::vector<std::string> allowed_sha256;
};

// What a plugin says about itself (its ach_type_plugin_info), once checked.
// The one shape of plugin metadata: the in-process loader and the worker's
// hello both produce it.
struct PluginManifest {
  std::string id;
  std::string version;
  std::string display_name;
  std::string abi_version;  // "major.minor" the plugin was built against.
  std::vector<std::string> protocols;
  std::vector<std::string> event_kinds;  // As declared.
};

// What ListPlugins shows for one file: its manifest (of a rejected file
// only the ABI version, when it was read) and what the host found.
struct PluginRecord : PluginManifest {
  std::string file;  // Absolute path in the plugin directory.
  std::string sha256;
  bool loaded = false;
  std::string reason;  // Why it was rejected.
};

// Which events of a timeline a plugin receives: those whose kind (the field
// of achilles.v1.Event's `kind` oneof) its manifest declares. Every event
// when the declaration is empty or "*", and for plugins built against ABI
// 1.0, which were never held to their declaration. A value type.
class EventKindFilter {
 public:
  static EventKindFilter All() { return EventKindFilter(~uint64_t{0}); }
  // From declared kind names. INVALID_ARGUMENT naming the first name that is
  // not an Event kind.
  static absl::StatusOr<EventKindFilter> FromNames(
      const std::vector<std::string>& kinds);
  // The filter a checked manifest asks for.
  static EventKindFilter For(const PluginManifest& manifest);

  bool Takes(const achilles::v1::Event& event) const {
    return (bits_ & Bit(event)) != 0;
  }
  // Bit k stands for the kind whose field number is k (bit 0: no kind set,
  // bit 63: every kind numbered 63 or more). Two filters take the same
  // events of a timeline iff their bits agree on the timeline's kinds.
  uint64_t bits() const { return bits_; }
  static uint64_t Bit(const achilles::v1::Event& event);

 private:
  explicit EventKindFilter(uint64_t bits) : bits_(bits) {}
  uint64_t bits_;
};

class LoadedPlugin;

// One call of a batch: the plugin (an index into PluginSet::plugins) and
// the serialized PluginRequest. The bytes are shared, not copied: several
// calls may hold the same request, and an in-process call abandoned at its
// deadline keeps reading them after CallAll has returned.
struct PluginCall {
  size_t plugin = 0;
  std::shared_ptr<const std::string> request;
};

// An immutable, consistent set of plugins: what one evaluation runs against.
struct PluginSet {
  // Loaded plugins, ordered by id.
  std::vector<std::shared_ptr<const LoadedPlugin>> plugins;
  // Every file seen, loaded or rejected, ordered by file name.
  std::vector<PluginRecord> records;

  // Runs every call at once: each is handed to its plugin (a call thread,
  // or a worker process that is sent its request) before any answer is
  // awaited, each with its own deadline `timeout` from now. Returns one
  // result per call, in order, each as LoadedPlugin::Call describes;
  // INVALID_ARGUMENT for a call naming no plugin of this set.
  std::vector<absl::StatusOr<achilles::v1::PluginResponse>> CallAll(
      const std::vector<PluginCall>& calls, absl::Duration timeout) const;
};

// One loaded library. Unloaded (dlclose) when the last holder lets go.
class LoadedPlugin {
 public:
  ~LoadedPlugin();
  bool isolated() const { return isolated_; }
  const PluginRecord& record() const { return record_; }
  const EventKindFilter& event_filter() const { return event_filter_; }

  // Runs the plugin on `request_bytes` within `timeout`. Errors:
  // DEADLINE_EXCEEDED, UNAVAILABLE (in-process: quarantined after an
  // earlier timeout), RESOURCE_EXHAUSTED (no thread could be started for
  // it), INVALID_ARGUMENT (the plugin returned ACH_RC_BAD_REQUEST: "plugin
  // x rejected the request ..."), INTERNAL (ACH_RC_PLUGIN_ERROR: "plugin x
  // failed ...", an unknown code, unparseable or invalid response, a worker
  // that crashed). Messages name the plugin.
  absl::StatusOr<achilles::v1::PluginResponse> Call(
      const std::string& request_bytes, absl::Duration timeout) const;

 private:
  friend class PluginHost;
  friend struct PluginSet;
  LoadedPlugin() = default;
  std::string Named(absl::string_view what) const;
  // Waits for a call handed over to this plugin (at `started_nanos`, on
  // the metrics' steady clock), checks its answer and records its figures.
  absl::StatusOr<achilles::v1::PluginResponse> Await(
      absl::StatusOr<std::unique_ptr<plugins_internal::PendingCall>>* started,
      int64_t started_nanos) const;
  // The Status for a result code other than ACH_RC_OK: INVALID_ARGUMENT
  // "rejected the request (ACH_RC_BAD_REQUEST): ..." or INTERNAL
  // "failed (ACH_RC_PLUGIN_ERROR): ..." (or "returned unknown result code").
  absl::Status RcError(int rc, absl::string_view error) const;
  // Turns a plugin's rc, error text and bytes into a checked response.
  absl::StatusOr<achilles::v1::PluginResponse> Finish(
      int rc, absl::string_view error, absl::string_view bytes) const;

  std::shared_ptr<plugins_internal::PluginRunner> runner_;
  bool isolated_ = false;
  PluginRecord record_;
  EventKindFilter event_filter_ = EventKindFilter::All();
};

struct ReloadResult {
  std::vector<std::string> added;    // plugin ids
  std::vector<std::string> removed;  // plugin ids
  std::vector<std::string> changed;  // plugin ids whose file changed
};

class PluginHost {
 public:
  // Creates the host and performs the first scan. A missing plugin
  // directory is not an error (the server runs with the safety screen only);
  // a path that exists but is not a directory is INVALID_ARGUMENT; a
  // worker_user that does not exist, is root, or cannot be switched to
  // (server not root) is FAILED_PRECONDITION.
  static absl::StatusOr<std::unique_ptr<PluginHost>> Create(
      HostOptions options);
  ~PluginHost();

  std::shared_ptr<const PluginSet> Current() const;
  absl::StatusOr<ReloadResult> Reload();
  const HostOptions& options() const { return options_; }

 private:
  explicit PluginHost(HostOptions options) : options_(std::move(options)) {}
  // The plugin files in the directory, sorted; INTERNAL when unlistable.
  absl::StatusOr<std::vector<std::string>> ListFiles() const;
  // `file`'s plugin from `old` when its bytes are unchanged, else loaded
  // afresh; fills `record` either way.
  std::shared_ptr<const LoadedPlugin> Reuse(const PluginSet& old,
                                            const std::string& file,
                                            PluginRecord* record);
  std::shared_ptr<const LoadedPlugin> LoadFile(const std::string& path,
                                               PluginRecord* record);
  // Whether `path` may load: inside the directory, a regular file, not
  // world-writable, on the allowlist. Reads it into `bytes` and its digest
  // into record->sha256; FAILED_PRECONDITION with the reason when it may
  // not.
  absl::Status Admit(const std::string& path, std::string* bytes,
                     PluginRecord* record) const;
  // Writes `bytes` to the private content-addressed path; returns it.
  absl::StatusOr<std::string> PrivateCopy(const std::string& bytes,
                                          const std::string& sha256,
                                          absl::string_view suffix) const;
  // Starts the first worker, or dlopens; both fill `manifest` (its
  // abi_version even on refusal) and return the reason on refusal.
  absl::StatusOr<std::shared_ptr<plugins_internal::PluginRunner>> StartWorkers(
      const std::string& copy, const std::string& file,
      PluginManifest* manifest) const;
  absl::StatusOr<std::shared_ptr<plugins_internal::PluginRunner>> OpenInProcess(
      const std::string& copy, const std::string& file,
      PluginManifest* manifest) const;
  // A protocol file (plugins/protocol_file): checked in the server, run
  // in process or in workers like a .so.
  absl::StatusOr<std::shared_ptr<plugins_internal::PluginRunner>> OpenProtocol(
      const std::string& copy, const std::string& file,
      PluginManifest* manifest) const;
  // Loads `copy` in a throw-away worker first: UNAVAILABLE when it crashes
  // or hangs there.
  absl::Status TrialLoad(const std::string& copy) const;
  plugins_internal::WorkerConfig WorkerConfigFor(const std::string& copy) const;
  int CallsPerPlugin() const;

  // Makes a private copy readable by the workers' user, when there is one.
  void ShareWithWorkers(const std::string& path, mode_t mode) const;

  const HostOptions options_;
  std::string private_dir_;    // Where content-addressed copies live.
  int private_dir_lock_ = -1;  // Held while the host lives (private_dir.h).
  // Who workers (and trial loads) run as; -1 = the server's own user.
  int64_t worker_uid_ = -1;
  int64_t worker_gid_ = -1;
  absl::Mutex reload_mu_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const PluginSet> current_ ABSL_GUARDED_BY(mu_);
};

// Checks a response from a plugin: every candidate needs a summary, a known
// severity and category, and a rationale with rule id, at least one
// observation and at least one source. Returns INTERNAL naming the first
// offending candidate.
absl::Status ValidatePluginResponse(
    const achilles::v1::PluginResponse& response);

// Non-empty while in-process plugin code has been stuck in dlopen or
// dlclose past its deadline (a constructor or destructor that does not
// return), naming it. glibc's loader lock is then held, so exit() would
// block on it: a process shutting down should end with _exit instead.
std::string InProcessLoaderStuckIn();

}  // namespace achilles::plugins

#endif  // ACHILLES_PLUGINS_HOST_PLUGIN_HOST_H_
