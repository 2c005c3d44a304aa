// Starting and resuming caseload runs: what a run will do, fixed before it
// evaluates anyone. Internal to services/caseload.
//
// A new non-dry run stores its options (as_of fixed) under "run/<id>" in the
// clinic's records, and an explicit patient list as one "runscope/<id>"
// record per patient, so erasing a patient also erases their place in old
// runs. Resuming reads both back through the resumed run's snapshot.
#ifndef ACHILLES_SERVICES_CASELOAD_INTERNAL_RUN_PLAN_H_
#define ACHILLES_SERVICES_CASELOAD_INTERNAL_RUN_PLAN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "achilles/v1/policy.pb.h"
#include "services/caseload/caseload.h"
#include "storage/timeline_store.h"

namespace achilles::caseload_internal {

struct RunPlan {
  caseload::RunOptions options;  // as_of_us always set.
  std::string run_id;
  bool resumed = false;
  // The per-patient record that says "done in this run".
  std::string marker_key() const { return "run/" + run_id; }
};

// INVALID_ARGUMENT when the options do not combine: more than one scope, a
// policy override outside a dry run, or other fields beside resume_run_id.
absl::Status CheckOptions(const caseload::RunOptions& options);

// A new run: as_of fixed (now when unset) and, unless a dry run, its record
// and scope stored. Storage errors pass through.
absl::StatusOr<RunPlan> StartRun(storage::TimelineStore* store,
                                 const caseload::RunOptions& options);

// The stored run `options.resume_run_id`, read through `snapshot`.
// NOT_FOUND when the clinic has no such run; DATA_LOSS when its record does
// not parse.
absl::StatusOr<RunPlan> ResumeRun(storage::TimelineStore* store,
                                  const caseload::RunOptions& options,
                                  const storage::Snapshot* snapshot);

// The policy a run evaluates with: the override, else the clinic's policy
// as `snapshot` sees it, else the built-in default; normalized.
absl::StatusOr<achilles::v1::ClinicPolicy> RunPolicy(
    storage::TimelineStore* store, const RunPlan& plan,
    const storage::Snapshot* snapshot);

}  // namespace achilles::caseload_internal

#endif  // ACHILLES_SERVICES_CASELOAD_INTERNAL_RUN_PLAN_H_
