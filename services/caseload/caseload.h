// Caseload re-evaluation: evaluate many patients from one consistent
// snapshot of the store, in parallel, and say what changed for each.
//
// RunReEvaluation drives one run: it validates the request, resolves the
// scope lazily from the snapshot (the patient list is never held in memory;
// a bounded queue feeds the workers), evaluates on `workers` threads that
// step aside while interactive Evaluate calls are in flight, and reports
// progress, per-patient deltas and a final summary through `send`. Memory is
// bounded by the queue, not by the caseload size.
//
// A non-dry run is resumable: its request (with as_of fixed) is stored under
// its run id, and each finished patient gets a marker, so a run resumed by
// id skips them. A dry run stores nothing and is not resumable.
//
// Thread-safety: `send` is called from several threads, one call at a time
// per thread; it may block (backpressure). Returning false from `send`, or
// setting `cancelled`, stops the run promptly.
#ifndef ACHILLES_SERVICES_CASELOAD_CASELOAD_H_
#define ACHILLES_SERVICES_CASELOAD_CASELOAD_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "achilles/v1/caseload_service.pb.h"
#include "services/engine/engine.h"

namespace achilles::caseload {

struct Deps {
  storage::TimelineStore* store = nullptr;
  engine::Engine* engine = nullptr;
  plugins::PluginHost* host = nullptr;
  // Interactive Evaluate calls in flight; workers yield while it is > 0.
  const std::atomic<int>* interactive_in_flight = nullptr;
  int workers = 0;  // 0 = one per core.
};

using Sender = std::function<bool(const achilles::v1::ReEvaluateEvent&)>;

// Returns OK when the run completed, CANCELLED when it was stopped (the
// message says how to resume), or the validation / storage error.
absl::Status RunReEvaluation(const Deps& deps, const std::string& clinic,
                             const achilles::v1::ReEvaluateRequest& request,
                             const Sender& send,
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
