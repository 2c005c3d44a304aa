// Isolated plugin workers: a small pool of achilles-plugin-worker processes
// per plugin. A call that crashes its worker or overruns its deadline kills
// that process; the next call starts a fresh one. Internal to plugins/host.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_WORKER_PROCESS_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_WORKER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "achilles/v1/plugin.pb.h"

namespace achilles::plugins_internal {

struct WorkerConfig {
  std::string worker_binary;
  std::string plugin_path;        // The private copy to load.
  size_t memory_limit_bytes = 0;  // RLIMIT_AS for the worker; 0 = none.
  int max_workers = 2;
};

class WorkerProcess {
 public:
  // Starts a worker and reads its hello (within 10 s).
  static absl::StatusOr<std::unique_ptr<WorkerProcess>> Start(
      const WorkerConfig& config, achilles::v1::WorkerHello* hello);
  ~WorkerProcess();

  // One request/reply. On any error the process is killed and unusable.
  absl::StatusOr<achilles::v1::WorkerReply> Call(const std::string& request,
                                                 absl::Duration timeout);
  bool alive() const { return pid_ > 0; }

 private:
  WorkerProcess() = default;
  // Kills (if running) and reaps the process; returns how it ended.
  std::string Reap(bool kill_first);

  pid_t pid_ = -1;
  int fd_ = -1;
};

class WorkerPool {
 public:
  explicit WorkerPool(WorkerConfig config) : config_(std::move(config)) {}
  ~WorkerPool();

  // Adds an already started worker (the one that said hello at load).
  void Adopt(std::unique_ptr<WorkerProcess> worker);
  absl::StatusOr<achilles::v1::WorkerReply> Call(const std::string& request,
                                                 absl::Duration timeout);

 private:
  const WorkerConfig config_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<WorkerProcess>> idle_ ABSL_GUARDED_BY(mu_);
  int live_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_WORKER_PROCESS_H_
