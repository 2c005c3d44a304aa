#include "services/caseload/internal/run_plan.h"

#include <random>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/engine/engine.h"

namespace achilles::caseload_internal {
namespace {

using ::achilles::caseload::RunOptions;

std::string NewRunId() {
  std::random_device rd;
  std::string bytes(8, '\0');
  for (auto& c : bytes) c = static_cast<char>(rd());
  return absl::StrCat("run-", absl::BytesToHexString(bytes));
}

std::string ScopeKey(const std::string& run_id) { return "runscope/" + run_id; }

// Stored runs keep the request message they always had, so runs stored by
// an older server still resume. Only non-dry runs are stored: no override.
v1::RunRecord ToRecord(const RunOptions& o) {
  v1::RunRecord record;
  v1::ReEvaluateRequest* req = record.mutable_request();
  if (o.events_since_us)
    *req->mutable_events_since() = FromMicros(*o.events_since_us);
  req->set_plugin_id(o.plugin_id);
  *req->mutable_as_of() = FromMicros(*o.as_of_us);
  record.set_explicit_scope(!o.patient_ids.empty());
  return record;
}

RunOptions FromRecord(const std::string& clinic, const v1::RunRecord& record) {
  const v1::ReEvaluateRequest& req = record.request();
  RunOptions o;
  o.clinic = clinic;
  if (req.has_events_since()) o.events_since_us = ToMicros(req.events_since());
  o.plugin_id = req.plugin_id();
  if (req.has_as_of()) o.as_of_us = ToMicros(req.as_of());
  return o;
}

// One record per listed patient who exists; unknown ids get none (it would
// belong to nobody's erasure), so they fail in this run and are not retried
// on resume.
absl::Status StoreScope(storage::TimelineStore* store, const RunPlan& plan) {
  for (const auto& id : plan.options.patient_ids) {
    absl::Status st = store->PutPatientRecord(plan.options.clinic, id,
                                              ScopeKey(plan.run_id), "", false);
    if (!st.ok() && !absl::IsNotFound(st)) return st;
  }
  return absl::OkStatus();
}

// The explicit list of a stored run: its records live with the patients, so
// erased ones are gone from it.
absl::Status LoadScope(storage::TimelineStore* store,
                       const storage::Snapshot* snapshot, RunPlan* plan) {
  const std::string& clinic = plan->options.clinic;
  const std::string key = ScopeKey(plan->run_id);
  return store->ForEachPatientId(
      clinic,
      [&](const std::string& id) -> absl::Status {
        auto record = store->GetPatientRecord(clinic, id, key, snapshot);
        if (record.ok()) {
          plan->options.patient_ids.push_back(id);
        } else if (!absl::IsNotFound(record.status())) {
          return record.status();
        }
        return absl::OkStatus();
      },
      snapshot);
}

}  // namespace

absl::Status CheckOptions(const RunOptions& o) {
  if (!o.resume_run_id.empty()) {
    if (!o.patient_ids.empty() || o.events_since_us || !o.plugin_id.empty() ||
        o.as_of_us || o.dry_run || o.policy_override) {
      return absl::InvalidArgumentError(
          "resume_run_id: give no other fields; a resumed run uses the "
          "scope and as_of it started with");
    }
    return absl::OkStatus();
  }
  const int scopes = !o.patient_ids.empty() + o.events_since_us.has_value() +
                     !o.plugin_id.empty();
  if (scopes > 1) {
    return absl::InvalidArgumentError(
        "scope: set at most one of patient_ids, events_since, plugin_id");
  }
  if (o.policy_override && !o.dry_run) {
    return absl::InvalidArgumentError(
        "policy_override: only allowed with dry_run (a preview); change the "
        "policy with SetPolicy to apply it");
  }
  return absl::OkStatus();
}

absl::StatusOr<RunPlan> StartRun(storage::TimelineStore* store,
                                 const RunOptions& options) {
  RunPlan plan;
  plan.options = options;
  if (!plan.options.as_of_us) plan.options.as_of_us = NowMicros();
  plan.run_id = options.dry_run ? "dry-run" : NewRunId();
  if (options.dry_run) return plan;
  if (auto st = StoreScope(store, plan); !st.ok()) return st;
  if (auto st = store->PutRecord(options.clinic, plan.marker_key(),
                                 ToRecord(plan.options).SerializeAsString());
      !st.ok()) {
    return st;
  }
  return plan;
}

absl::StatusOr<RunPlan> ResumeRun(storage::TimelineStore* store,
                                  const RunOptions& options,
                                  const storage::Snapshot* snapshot) {
  const std::string& id = options.resume_run_id;
  auto stored = store->GetRecord(options.clinic, "run/" + id, snapshot);
  if (absl::IsNotFound(stored.status())) {
    return absl::NotFoundError(
        absl::StrCat("resume_run_id: no run '", id, "' for this clinic"));
  }
  if (!stored.ok()) return stored.status();
  v1::RunRecord record;
  if (!record.ParseFromString(*stored)) {
    return absl::DataLossError("stored run record does not parse");
  }
  RunPlan plan;
  plan.options = FromRecord(options.clinic, record);
  if (!plan.options.as_of_us) plan.options.as_of_us = NowMicros();
  plan.run_id = id;
  plan.resumed = true;
  if (record.explicit_scope()) {
    if (auto st = LoadScope(store, snapshot, &plan); !st.ok()) return st;
  }
  return plan;
}

absl::StatusOr<v1::ClinicPolicy> RunPolicy(storage::TimelineStore* store,
                                           const RunPlan& plan,
                                           const storage::Snapshot* snapshot) {
  if (plan.options.policy_override) {
    v1::ClinicPolicy policy = *plan.options.policy_override;
    engine::NormalizePolicy(&policy);
    return policy;
  }
  auto stored = store->GetPolicy(plan.options.clinic, 0, snapshot);
  if (absl::IsNotFound(stored.status())) return engine::DefaultPolicy();
  if (!stored.ok()) return stored.status();
  engine::NormalizePolicy(&*stored);
  return stored;
}

}  // namespace achilles::caseload_internal
