// Isolated plugin workers: a small pool of achilles-plugin-worker processes
// per plugin, which is that plugin's runner (plugin_runner.h): a call is a
// request frame sent to an idle worker and its reply read later, so a batch
// sends every request before it reads any reply. A call that crashes its
// worker or overruns its deadline kills that process; the next call starts
// a fresh one. A worker that used up its
// CPU time limit is a crash like any other; one that has used half of it is
// retired after its call, and one that died while idle is replaced before
// a call is given to it. Internal to plugins/host.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_WORKER_PROCESS_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_WORKER_PROCESS_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "achilles/internal/worker.pb.h"
#include "achilles/v1/plugin.pb.h"
#include "plugins/host/internal/byte_buffer.h"
#include "plugins/host/internal/plugin_runner.h"

namespace achilles::plugins_internal {

struct WorkerConfig {
  std::string worker_binary;
  std::string plugin_path;  // The private copy to load.
  // The plugin's id once its manifest is known (for metrics and logs).
  std::string plugin_id;
  size_t memory_limit_bytes = 0;  // RLIMIT_AS for the worker; 0 = none.
  int cpu_seconds = 0;            // RLIMIT_CPU for the worker; 0 = none.
  // How long loading the plugin (its hello) may take.
  absl::Duration start_timeout = absl::Seconds(10);
  // The user the worker switches to (it must be started as root); -1 =
  // stay. See sandbox.h.
  int64_t run_as_uid = -1;
  int64_t run_as_gid = -1;
  int max_workers = 2;
};

class WorkerProcess {
 public:
  // How long an idle worker let go may take to run the plugin's
  // on_shutdown and exit before it is killed.
  static constexpr absl::Duration kShutdownGrace = absl::Milliseconds(500);

  // Starts a worker and reads its hello (within config.start_timeout).
  static absl::StatusOr<std::unique_ptr<WorkerProcess>> Start(
      const WorkerConfig& config, achilles::internal::WorkerHello* hello);
  // Closes the socket; the worker ends within kShutdownGrace or is killed.
  ~WorkerProcess();
  // Closes the socket only, so the worker starts its shutdown now; the
  // destructor then waits for it. Lets a pool end all its workers at once.
  void BeginShutdown();

  // A request/reply in two halves, so several workers can compute at once.
  // Send writes the request frame; Receive reads the reply into `reply`.
  // Errors (from either half: pass Send's status to Receive) kill the
  // process, which is then unusable: DEADLINE_EXCEEDED past `deadline`,
  // INTERNAL for a crash (naming the signal) or a malformed reply.
  absl::Status Send(absl::string_view request);
  absl::Status Receive(const absl::Status& sent, const CallDeadline& deadline,
                       achilles::internal::WorkerReply* reply);
  bool alive() const { return pid_ > 0; }
  // CPU time the running worker has used so far (zero once it is gone).
  absl::Duration CpuUsed() const;
  // True when the worker ended on its own while waiting for a request (for
  // example its CPU limit, spent by a plugin thread); reaps it and sets
  // `*how`.
  bool EndedWhileIdle(std::string* how);

 private:
  WorkerProcess() = default;
  // Ends the call that failed with `io` and says why, as Receive does.
  absl::Status Fail(const absl::Status& io, const CallDeadline& deadline);
  // Reaps the process, killing it first at `kill_at` if it has not ended
  // by then (absl::InfinitePast(): at once); returns how it ended.
  std::string Reap(absl::Time kill_at);
  // Describes a reaped worker's end.
  std::string HowItEnded(int status, const rusage& usage,
                         bool killed_by_us) const;

  pid_t pid_ = -1;
  int fd_ = -1;
  int cpu_seconds_ = 0;
  ByteBuffer frame_;  // Replies land here, reused from call to call.
};

// The worker processes of one plugin, as the plugin's runner.
class WorkerPool final : public PluginRunner,
                         public std::enable_shared_from_this<WorkerPool> {
 public:
  explicit WorkerPool(WorkerConfig config) : config_(std::move(config)) {}
  const std::string& plugin() const { return config_.plugin_id; }
  ~WorkerPool() override;

  // Adds an already started worker (the one that said hello at load).
  void Adopt(std::unique_ptr<WorkerProcess> worker);
  // Takes an idle worker (or starts one, waiting for a free place until the
  // deadline) and sends it the request.
  absl::StatusOr<std::unique_ptr<PendingCall>> Start(
      std::shared_ptr<const std::string> request,
      const CallDeadline& deadline) override;

 private:
  class Call;
  // An idle worker, or a new one; DEADLINE_EXCEEDED when every place stays
  // taken until `deadline`.
  absl::StatusOr<std::unique_ptr<WorkerProcess>> Acquire(absl::Time deadline);
  // Pops an idle worker that is still running, reaping any that are not;
  // nullptr when none is left.
  std::unique_ptr<WorkerProcess> TakeIdle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Back from a call: idle again, or gone (dead, or retired), freeing its
  // place. nullptr: a worker that was killed.
  void Release(std::unique_ptr<WorkerProcess> worker);

  const WorkerConfig config_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<WorkerProcess>> idle_ ABSL_GUARDED_BY(mu_);
  int live_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_WORKER_PROCESS_H_
