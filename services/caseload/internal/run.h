// One caseload run as it executes: the scope reader, the workers, the group
// writes and what goes to the sink. Internal to services/caseload; the
// contract is RunReEvaluation's (caseload.h).
//
// The calling thread reads the scope from the run's snapshot into a
// WorkQueue; each worker pops a patient, evaluates it from the snapshot
// with the run's policy and plugin set, and collects the result in its
// group. A full group (or one older than kMaxGroupAge) is stored with one
// TimelineStore::PutEvaluations call and then handed to the sink as one
// delta batch. Stopping (cancel, or a sink returning false) stops the queue,
// so every wait ends, and drops each worker's unstored group.
#ifndef ACHILLES_SERVICES_CASELOAD_INTERNAL_RUN_H_
#define ACHILLES_SERVICES_CASELOAD_INTERNAL_RUN_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/caseload/caseload.h"
#include "services/caseload/internal/run_plan.h"
#include "services/caseload/internal/work_queue.h"

namespace achilles::caseload_internal {

// One patient's outcome, before its group is stored.
struct PatientResult {
  achilles::v1::PatientDelta delta;
  // What to store for the patient; unset when nothing is (dry run, or the
  // evaluation failed).
  std::optional<achilles::v1::Evaluation> evaluation;
};

class Run {
 public:
  Run(const caseload::Deps& deps, RunPlan plan,
      achilles::v1::ClinicPolicy policy, const storage::Snapshot* snapshot,
      const caseload::RunSink& sink, const std::atomic<bool>& cancelled);

  // Runs to the end; RunReEvaluation's result.
  absl::Status Execute();

 private:
  bool Stopping();
  void Stop();
  // OK, or why a group write stopped the run (with how to resume).
  absl::Status StoreError();
  absl::Status Cancelled() const;

  // The scope reader (the calling thread).
  void ReadScope();
  absl::Status ForEachInScope(
      const std::function<absl::Status(const std::string&)>& fn);
  absl::StatusOr<bool> InScope(const std::string& id);

  // A worker.
  void Work();
  bool AlreadyDone(const std::string& id);
  PatientResult Evaluate(const std::string& id);
  // Stores `group`, counts it and streams its deltas; false when the run
  // must stop.
  bool Flush(std::vector<PatientResult>* group);
  void Store(std::vector<PatientResult>* group);

  void SendProgress(bool force);
  achilles::v1::Progress Progress() const;
  achilles::v1::RunSummary Summary() const;

  const caseload::Deps& deps_;
  const RunPlan plan_;
  const achilles::v1::ClinicPolicy policy_;
  const storage::Snapshot* const snapshot_;
  const std::shared_ptr<const plugins::PluginSet> plugins_;
  const caseload::RunSink& sink_;
  const std::atomic<bool>& cancelled_;
  const size_t group_size_;
  const absl::Time start_;

  WorkQueue queue_;
  std::atomic<bool> stop_{false};
  absl::Status scope_error_;  // Written and read by the calling thread.
  // The first failed group write. It stops the run: the store cannot
  // reopen after a disk or descriptor failure while the run holds its
  // snapshot, so carrying on would keep every write on the server failing.
  absl::Mutex store_error_mu_;
  absl::Status store_error_ ABSL_GUARDED_BY(store_error_mu_);
  std::atomic<int64_t> found_{0};  // In scope, so far.
  std::atomic<int64_t> done_{0};   // Skipped or reported.
  std::atomic<int64_t> fresh_{0};  // Evaluated in this run.
  std::atomic<int64_t> skipped_{0};
  std::atomic<int64_t> counts_[achilles::v1::DeltaKind_ARRAYSIZE] = {};

  absl::Mutex progress_mu_;
  absl::Time last_progress_ ABSL_GUARDED_BY(progress_mu_);
};

}  // namespace achilles::caseload_internal

#endif  // ACHILLES_SERVICES_CASELOAD_INTERNAL_RUN_H_
