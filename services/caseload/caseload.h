// Caseload re-evaluation: evaluate many patients from one consistent
// snapshot of the store, in parallel, and say what changed for each.
//
// RunReEvaluation drives one run as a batch job. Every read it makes goes
// through one snapshot taken when it starts, the clinic policy included, so
// appends, SetPolicy calls and erasures made meanwhile never change what it
// computes. The scope is resolved once, lazily, from that snapshot into a
// bounded queue (a caseload's patient list is never held whole) feeding
// `workers` threads. Each worker evaluates a group of patients, stores the
// group in one synced write (evaluations, latest pointers, deltas and resume
// markers together: all of the group or none of it), then hands the group's
// deltas to the sink in one call. Workers step aside while interactive
// calls hold the InteractiveGate. Memory is bounded by the queue and the
// groups, not by the caseload size.
//
// A non-dry run is resumable: its options (as_of fixed) are stored under its
// run id and each stored patient carries a marker, so a run resumed by id
// skips them. A stopped run drops the group each worker had not yet stored;
// resuming evaluates those patients again. A dry run stores nothing and is
// not resumable.
//
// Callers check the fields first (ids, timestamps, policy: see
// services/validation); RunReEvaluation checks how they combine.
//
// Thread-safety: the sink's functions are called from several threads, one
// call at a time per thread, and may block (backpressure). A sink function
// returning false, or `cancelled` becoming true, stops the run promptly.
// InteractiveGate is thread-safe.
#ifndef ACHILLES_SERVICES_CASELOAD_CASELOAD_H_
#define ACHILLES_SERVICES_CASELOAD_CASELOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "achilles/v1/caseload_service.pb.h"
#include "services/engine/engine.h"

namespace achilles::caseload {

// Lets interactive calls go ahead of batch work. An interactive call holds a
// Pass while it runs. Before each patient a batch worker calls AwaitQuiet,
// which returns as soon as no Pass is held, or after `max_wait` so a steady
// stream of interactive calls cannot starve the batch. The last Pass to end
// wakes the waiting workers; nothing polls.
class InteractiveGate {
 public:
  class Pass {
   public:
    explicit Pass(InteractiveGate* gate);  // Null: a no-op.
    ~Pass();
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;

   private:
    InteractiveGate* gate_;
  };

  void AwaitQuiet(absl::Duration max_wait);
  int in_flight() const;

 private:
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

// What a run needs. Not owned.
struct Deps {
  storage::TimelineStore* store = nullptr;
  engine::Engine* engine = nullptr;
  plugins::PluginHost* host = nullptr;
  // Workers yield to calls holding a pass; null = they never yield.
  InteractiveGate* interactive = nullptr;
  int workers = 0;     // 0 = one per core.
  int group_size = 0;  // Patients per stored group and delta batch; 0 = 32.
};

// One run, in domain terms.
struct RunOptions {
  std::string clinic;
  // Scope: at most one of these three; none = every patient of the clinic.
  std::vector<std::string> patient_ids;
  std::optional<int64_t> events_since_us;  // Newest event at or after this.
  std::string plugin_id;  // Latest evaluation has advice from this plugin.

  std::optional<int64_t> as_of_us;  // Unset = now.
  bool dry_run = false;             // Evaluate and report, store nothing.
  std::optional<achilles::v1::ClinicPolicy> policy_override;  // Dry runs.
  // Resumes this stored run with the scope and as_of it started with; every
  // other field (but clinic) must then be unset.
  std::string resume_run_id;
};

// Where a run's output goes. All four must be set.
struct RunSink {
  // Once, before anything else: the run's id ("dry-run" for a dry run).
  std::function<void(const std::string& run_id)> started;
  // The deltas of one group, after the group is stored. Over a run each
  // patient in scope appears in exactly one call (none when a resume skips
  // it, or when the run stopped before the patient's group was stored).
  std::function<bool(std::vector<achilles::v1::PatientDelta> deltas)> deltas;
  // Now and then, and once before the summary. `total` counts the patients
  // in scope found so far; it is final once the scope has been read, which
  // happens a bounded queue ahead of the workers.
  std::function<bool(const achilles::v1::Progress& progress)> progress;
  // Once, when the run completed.
  std::function<void(const achilles::v1::RunSummary& summary)> summary;
};

// Returns OK when the run completed; CANCELLED when it was stopped (the
// message says how to resume); INVALID_ARGUMENT when the options do not
// combine; NOT_FOUND for an unknown resume_run_id; RESOURCE_EXHAUSTED when a
// worker thread could not start; or a storage error reading the scope.
absl::Status RunReEvaluation(const Deps& deps, const RunOptions& options,
                             const RunSink& sink,
                             const std::atomic<bool>& cancelled);

// What changed between two evaluations of one patient. `previous` may be
// null (no earlier evaluation).
achilles::v1::PatientDelta ComputeDelta(
    const achilles::v1::Evaluation* previous,
    const achilles::v1::Evaluation& current);

// The clinic's patients in triage order: critical first, then escalations,
// then stale data, then by severity; paged by offset token.
absl::StatusOr<achilles::v1::WorklistResponse> BuildWorklist(
    const Deps& deps, const std::string& clinic,
    const achilles::v1::WorklistRequest& request);

}  // namespace achilles::caseload

#endif  // ACHILLES_SERVICES_CASELOAD_CASELOAD_H_
