#include "services/caseload/caseload.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/caseload/internal/run.h"
#include "services/caseload/internal/run_plan.h"

namespace achilles::caseload {
namespace {

using ::achilles::v1::Evaluation;
using ::achilles::v1::PatientDelta;

v1::Severity TopSeverity(const Evaluation& ev) {
  return ev.recommendations().empty() ? v1::SEVERITY_UNSPECIFIED
                                      : ev.recommendations(0).severity();
}

// One patient's line on the worklist: latest advice, last delta, freshness.
absl::StatusOr<v1::WorklistItem> WorklistItemFor(storage::TimelineStore* store,
                                                 const std::string& clinic,
                                                 const std::string& id,
                                                 int64_t stale_before) {
  v1::WorklistItem item;
  item.set_patient_id(id);
  auto ev = store->GetLatestEvaluation(clinic, id);
  if (ev.ok() && !ev->recommendations().empty()) {
    const auto& top = ev->recommendations(0);
    item.set_top_severity(top.severity());
    item.set_top_recommendation_id(top.id());
    item.set_top_summary(top.summary());
    item.set_evaluation_id(ev->evaluation_id());
  }
  auto delta = store->GetPatientRecord(clinic, id, "delta");
  if (delta.ok()) {
    PatientDelta d;
    if (d.ParseFromString(*delta)) item.set_last_delta(d.kind());
  }
  auto last = store->LastEventMicros(clinic, id);
  if (!last.ok()) return last.status();
  if (last->has_value()) *item.mutable_last_event_at() = FromMicros(**last);
  item.set_stale(!last->has_value() || **last < stale_before);
  return item;
}

// Critical first, then escalations, then stale data, then by severity; ties
// by patient id, so the order (and every page) is deterministic.
void SortForTriage(std::vector<v1::WorklistItem>* items) {
  auto key = [](const v1::WorklistItem& i) {
    return std::make_tuple(
        i.top_severity() == v1::SEVERITY_CRITICAL ? 0 : 1,
        i.last_delta() == v1::DELTA_KIND_ESCALATED ? 0 : 1, i.stale() ? 0 : 1,
        -static_cast<int>(i.top_severity()), std::cref(i.patient_id()));
  };
  std::sort(items->begin(), items->end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
}

}  // namespace

InteractiveGate::Pass::Pass(InteractiveGate* gate) : gate_(gate) {
  if (gate_ == nullptr) return;
  absl::MutexLock lock(&gate_->mu_);
  ++gate_->in_flight_;
}

InteractiveGate::Pass::~Pass() {
  if (gate_ == nullptr) return;
  // Releasing the mutex re-checks the waiters' condition: the last pass
  // out wakes them.
  absl::MutexLock lock(&gate_->mu_);
  --gate_->in_flight_;
}

void InteractiveGate::AwaitQuiet(absl::Duration max_wait) {
  absl::MutexLock lock(&mu_);
  auto quiet = [this]()
                   ABSL_SHARED_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
  mu_.AwaitWithTimeout(absl::Condition(&quiet), max_wait);
}

int InteractiveGate::in_flight() const {
  absl::MutexLock lock(&mu_);
  return in_flight_;
}

PatientDelta ComputeDelta(const Evaluation* previous,
                          const Evaluation& current) {
  PatientDelta d;
  d.set_patient_id(current.patient_id());
  d.set_evaluation_id(current.evaluation_id());
  d.set_current_severity(TopSeverity(current));
  if (!current.recommendations().empty()) {
    d.set_top_summary(current.recommendations(0).summary());
  }
  std::set<std::string> now_ids;
  for (const auto& r : current.recommendations()) now_ids.insert(r.id());
  if (previous == nullptr) {
    d.set_kind(v1::DELTA_KIND_NEW);
    for (const auto& id : now_ids) d.add_added_recommendation_ids(id);
    return d;
  }
  d.set_previous_severity(TopSeverity(*previous));
  std::set<std::string> before_ids;
  for (const auto& r : previous->recommendations()) before_ids.insert(r.id());
  // Same ids can still carry different advice (a plugin upgrade rewording
  // or re-dosing it): compare what the clinician would see.
  auto content = [](const v1::Recommendation& r) {
    return absl::StrCat(r.severity(), "|", r.summary(), "|",
                        r.prescription().SerializeAsString());
  };
  std::map<std::string, std::string> before_content;
  for (const auto& r : previous->recommendations()) {
    before_content[r.id()] = content(r);
  }
  bool reworded = false;
  for (const auto& r : current.recommendations()) {
    auto it = before_content.find(r.id());
    if (it != before_content.end() && it->second != content(r)) {
      reworded = true;
    }
  }
  for (const auto& id : now_ids) {
    if (!before_ids.count(id)) d.add_added_recommendation_ids(id);
  }
  for (const auto& id : before_ids) {
    if (!now_ids.count(id)) d.add_resolved_recommendation_ids(id);
  }
  if (d.current_severity() > d.previous_severity()) {
    d.set_kind(v1::DELTA_KIND_ESCALATED);
  } else if (d.current_severity() < d.previous_severity()) {
    d.set_kind(v1::DELTA_KIND_DEESCALATED);
  } else if (d.added_recommendation_ids().empty() &&
             d.resolved_recommendation_ids().empty() && !reworded) {
    d.set_kind(v1::DELTA_KIND_UNCHANGED);
  } else {
    d.set_kind(v1::DELTA_KIND_CHANGED);
  }
  return d;
}

absl::Status RunReEvaluation(const Deps& deps, const RunOptions& options,
                             const RunSink& sink,
                             const std::atomic<bool>& cancelled) {
  if (auto st = caseload_internal::CheckOptions(options); !st.ok()) return st;
  // Taken first, so a resume reads its record, scope and markers through it
  // like every other read of the run.
  std::unique_ptr<storage::Snapshot> snapshot = deps.store->GetSnapshot();
  auto plan =
      options.resume_run_id.empty()
          ? caseload_internal::StartRun(deps.store, options)
          : caseload_internal::ResumeRun(deps.store, options, snapshot.get());
  if (!plan.ok()) return plan.status();
  auto policy = caseload_internal::RunPolicy(deps.store, *plan, snapshot.get());
  if (!policy.ok()) return policy.status();
  caseload_internal::Run run(deps, *std::move(plan), *std::move(policy),
                             snapshot.get(), sink, cancelled);
  return run.Execute();
}

absl::StatusOr<v1::WorklistResponse> BuildWorklist(
    const Deps& deps, const std::string& clinic,
    const v1::WorklistRequest& req) {
  if (req.page_size() < 0 || req.page_size() > 1000) {
    return absl::InvalidArgumentError("page_size: must be 0-1000");
  }
  if (req.stale_after_days() < 0 || req.stale_after_days() > 3650) {
    return absl::InvalidArgumentError("stale_after_days: must be 0-3650");
  }
  size_t offset = 0;
  if (!req.page_token().empty() &&
      !absl::SimpleAtoi(req.page_token(), &offset)) {
    return absl::InvalidArgumentError(
        "page_token: not a token from a previous Worklist call");
  }
  const size_t page_size = req.page_size() == 0 ? 50 : req.page_size();
  const int64_t stale_before =
      NowMicros() -
      (req.stale_after_days() == 0 ? 14 : req.stale_after_days()) *
          kMicrosPerDay;
  std::vector<v1::WorklistItem> items;
  auto st = deps.store->ForEachPatientId(clinic, [&](const std::string& id) {
    auto item = WorklistItemFor(deps.store, clinic, id, stale_before);
    if (!item.ok()) return item.status();
    items.push_back(*std::move(item));
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  SortForTriage(&items);
  v1::WorklistResponse resp;
  for (size_t i = offset; i < items.size() && i < offset + page_size; ++i) {
    *resp.add_items() = std::move(items[i]);
  }
  if (offset + page_size < items.size()) {
    resp.set_next_page_token(std::to_string(offset + page_size));
  }
  return resp;
}

}  // namespace achilles::caseload
