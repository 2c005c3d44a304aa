#include "services/caseload/internal/run.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/thread_util.h"

namespace achilles::caseload_internal {
namespace {

using ::achilles::v1::Evaluation;
using ::achilles::v1::PatientDelta;

constexpr int kDefaultGroupSize = 32;
// Ids only, so this bounds memory to a few hundred KiB while letting the
// scope reader get far enough ahead that `total` is final early.
constexpr size_t kQueueCapacity = 4096;
// A group is stored and streamed once it is this old even if not full, so
// slow plugins do not hold back progress or deltas.
constexpr absl::Duration kMaxGroupAge = absl::Milliseconds(250);
constexpr absl::Duration kProgressEvery = absl::Milliseconds(250);
// The longest a worker steps aside for interactive calls per patient.
constexpr absl::Duration kMaxYield = absl::Milliseconds(20);

int WorkerCount(const caseload::Deps& deps) {
  if (deps.workers > 0) return deps.workers;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

PatientDelta Failed(const std::string& id, const absl::Status& status) {
  PatientDelta d;
  d.set_patient_id(id);
  d.set_kind(v1::DELTA_KIND_FAILED);
  d.set_error(std::string(status.message()));
  return d;
}

// Advice missing because a plugin failed is not a change in the patient:
// report the failure instead of "resolved".
void ReportPluginFailures(const Evaluation& ev, PatientDelta* delta) {
  std::string failures;
  for (const auto& run : ev.plugins()) {
    if (run.status() == v1::PLUGIN_RUN_STATUS_FAILED) {
      absl::StrAppend(&failures, failures.empty() ? "" : "; ", "plugin ",
                      run.plugin_id(), " failed: ", run.error());
    }
  }
  if (!failures.empty()) {
    delta->set_kind(v1::DELTA_KIND_FAILED);
    delta->set_error(failures);
  }
}

void JoinAll(std::vector<std::thread>* threads) {
  for (auto& t : *threads) t.join();
}

}  // namespace

Run::Run(const caseload::Deps& deps, RunPlan plan, v1::ClinicPolicy policy,
         const storage::Snapshot* snapshot, const caseload::RunSink& sink,
         const std::atomic<bool>& cancelled)
    : deps_(deps),
      plan_(std::move(plan)),
      policy_(std::move(policy)),
      snapshot_(snapshot),
      plugins_(deps.host->Current()),
      sink_(sink),
      cancelled_(cancelled),
      group_size_(deps.group_size > 0 ? deps.group_size : kDefaultGroupSize),
      start_(absl::Now()),
      queue_(kQueueCapacity),
      last_progress_(start_) {}

absl::Status Run::Execute() {
  sink_.started(plan_.run_id);
  std::vector<std::thread> workers;
  for (int w = 0; w < WorkerCount(deps_); ++w) {
    auto worker = StartThread("a caseload worker", [this] { Work(); });
    if (!worker.ok()) {
      // Resumable like a cancelled run.
      Stop();
      JoinAll(&workers);
      return absl::ResourceExhaustedError(
          absl::StrCat(worker.status().message(),
                       plan_.options.dry_run
                           ? ""
                           : absl::StrCat("; resume later with resume_run_id=",
                                          plan_.run_id)));
    }
    workers.push_back(*std::move(worker));
  }
  ReadScope();
  JoinAll(&workers);
  if (!scope_error_.ok()) return scope_error_;
  if (absl::Status st = StoreError(); !st.ok()) return st;
  if (Stopping()) return Cancelled();
  SendProgress(/*force=*/true);
  sink_.summary(Summary());
  return absl::OkStatus();
}

bool Run::Stopping() {
  if (stop_.load()) return true;
  if (!cancelled_.load()) return false;
  Stop();
  return true;
}

void Run::Stop() {
  stop_ = true;
  queue_.Stop();  // Wakes the scope reader and every idle worker.
}

absl::Status Run::StoreError() {
  absl::MutexLock lock(&store_error_mu_);
  if (store_error_.ok()) return store_error_;
  return absl::Status(
      store_error_.code(),
      absl::StrCat(
          "run ", plan_.run_id, " stopped: the store refused a write (",
          store_error_.message(), ")",
          plan_.options.dry_run
              ? ""
              : absl::StrCat("; resume with resume_run_id=", plan_.run_id,
                             " once it accepts writes")));
}

absl::Status Run::Cancelled() const {
  return absl::CancelledError(absl::StrCat(
      "run ", plan_.run_id, " stopped after ", done_.load(), " of ",
      found_.load(), " patients",
      plan_.options.dry_run
          ? ""
          : absl::StrCat("; resume with resume_run_id=", plan_.run_id)));
}

void Run::ReadScope() {
  absl::Status st = ForEachInScope([this](const std::string& id) {
    if (Stopping() || !queue_.Push(id)) {
      return absl::CancelledError("stopped");
    }
    ++found_;
    return absl::OkStatus();
  });
  if (!st.ok() && !absl::IsCancelled(st)) {
    scope_error_ = st;
    Stop();
  }
  queue_.Finish();
}

absl::Status Run::ForEachInScope(
    const std::function<absl::Status(const std::string&)>& fn) {
  const caseload::RunOptions& o = plan_.options;
  if (!o.patient_ids.empty()) {
    for (const auto& id : o.patient_ids) {
      if (auto st = fn(id); !st.ok()) return st;
    }
    return absl::OkStatus();
  }
  return deps_.store->ForEachPatientId(
      o.clinic,
      [&](const std::string& id) -> absl::Status {
        auto in = InScope(id);
        if (!in.ok()) return in.status();
        return *in ? fn(id) : absl::OkStatus();
      },
      snapshot_);
}

absl::StatusOr<bool> Run::InScope(const std::string& id) {
  const caseload::RunOptions& o = plan_.options;
  if (o.events_since_us) {
    auto last = deps_.store->LastEventMicros(o.clinic, id, snapshot_);
    if (!last.ok()) return last.status();
    return last->has_value() && **last >= *o.events_since_us;
  }
  if (!o.plugin_id.empty()) {
    auto ev = deps_.store->GetLatestEvaluation(o.clinic, id, snapshot_);
    if (absl::IsNotFound(ev.status())) return false;
    if (!ev.ok()) return ev.status();
    return std::any_of(
        ev->recommendations().begin(), ev->recommendations().end(),
        [&](const auto& r) { return r.plugin_id() == o.plugin_id; });
  }
  return true;
}

void Run::Work() {
  std::vector<PatientResult> group;
  absl::Time group_start;
  while (std::optional<std::string> id = queue_.Pop()) {
    if (Stopping()) break;
    if (AlreadyDone(*id)) continue;
    if (deps_.interactive != nullptr) deps_.interactive->AwaitQuiet(kMaxYield);
    if (group.empty()) group_start = absl::Now();
    group.push_back(Evaluate(*id));
    if (group.size() >= group_size_ ||
        absl::Now() - group_start >= kMaxGroupAge) {
      if (!Flush(&group)) break;
    }
  }
  // A stopped run drops the group it had not stored: all of a group is
  // stored and reported, or none of it.
  if (Stopping() || group.empty()) return;
  Flush(&group);
}

bool Run::AlreadyDone(const std::string& id) {
  if (!plan_.resumed) return false;
  if (!deps_.store
           ->GetPatientRecord(plan_.options.clinic, id, plan_.marker_key(),
                              snapshot_)
           .ok()) {
    return false;
  }
  ++skipped_;
  ++done_;
  return true;
}

PatientResult Run::Evaluate(const std::string& id) {
  const std::string& clinic = plan_.options.clinic;
  storage::TimelineStore* store = deps_.store;
  // Listed ids need not exist; ids read from the snapshot do.
  if (!plan_.options.patient_ids.empty()) {
    if (auto p = store->GetPatient(clinic, id, snapshot_); !p.ok()) {
      return {Failed(id, p.status()), std::nullopt};
    }
  }
  auto previous = store->GetLatestEvaluation(clinic, id, snapshot_);
  if (!previous.ok() && !absl::IsNotFound(previous.status())) {
    return {Failed(id, previous.status()), std::nullopt};
  }
  auto timeline =
      store->LoadStoredTimeline(clinic, id, *plan_.options.as_of_us, snapshot_);
  if (!timeline.ok()) return {Failed(id, timeline.status()), std::nullopt};
  engine::TimelineInput input{
      clinic,           id,       *plan_.options.as_of_us,
      timeline->events, &policy_, &timeline->bytes};
  Evaluation ev = engine::EvaluateTimeline(input, *plugins_,
                                           deps_.host->options().call_timeout);
  PatientResult result;
  result.delta =
      caseload::ComputeDelta(previous.ok() ? &*previous : nullptr, ev);
  ReportPluginFailures(ev, &result.delta);
  if (!plan_.options.dry_run) result.evaluation = std::move(ev);
  return result;
}

bool Run::Flush(std::vector<PatientResult>* group) {
  if (!plan_.options.dry_run) Store(group);
  std::vector<PatientDelta> deltas;
  deltas.reserve(group->size());
  for (PatientResult& r : *group) {
    ++counts_[r.delta.kind()];
    deltas.push_back(std::move(r.delta));
  }
  fresh_ += static_cast<int64_t>(group->size());
  done_ += static_cast<int64_t>(group->size());
  group->clear();
  if (!sink_.deltas(std::move(deltas))) {
    Stop();
    return false;
  }
  SendProgress(/*force=*/false);
  return !Stopping();
}

void Run::Store(std::vector<PatientResult>* group) {
  std::vector<storage::EvaluationWrite> writes;
  std::vector<PatientResult*> owners;  // writes[i] is owners[i]'s.
  for (PatientResult& r : *group) {
    if (!r.evaluation) continue;
    storage::EvaluationWrite w;
    w.evaluation = *std::move(r.evaluation);
    r.evaluation.reset();
    // The latest delta feeds the worklist; the marker lets a resume skip
    // the patient. Both go in the same batch as the evaluation.
    w.records = {{"delta", r.delta.SerializeAsString()},
                 {plan_.marker_key(), ""}};
    writes.push_back(std::move(w));
    owners.push_back(&r);
  }
  if (writes.empty()) return;
  auto results = deps_.store->PutEvaluations(writes);
  if (!results.ok()) {
    {
      absl::MutexLock lock(&store_error_mu_);
      if (store_error_.ok()) store_error_ = results.status();
    }
    Stop();
  }
  for (size_t i = 0; i < owners.size(); ++i) {
    const absl::Status st = results.ok() ? (*results)[i] : results.status();
    if (st.ok()) continue;
    PatientDelta& d = owners[i]->delta;
    d = Failed(
        d.patient_id(),
        absl::Status(st.code(), absl::StrCat("not stored: ", st.message())));
  }
}

void Run::SendProgress(bool force) {
  {
    absl::MutexLock lock(&progress_mu_);
    const absl::Time now = absl::Now();
    if (!force && now - last_progress_ < kProgressEvery) return;
    last_progress_ = now;
  }
  if (!sink_.progress(Progress())) Stop();
}

v1::Progress Run::Progress() const {
  v1::Progress p;
  const int64_t done = done_.load();
  const int64_t total = std::max(found_.load(), done);
  p.set_done(done);
  p.set_total(total);
  const double secs = absl::ToDoubleSeconds(absl::Now() - start_);
  const double rate = secs > 0 ? fresh_.load() / secs : 0;
  p.set_patients_per_second(rate);
  p.set_eta_seconds(rate > 0 ? (total - done) / rate : 0);
  return p;
}

v1::RunSummary Run::Summary() const {
  v1::RunSummary s;
  s.set_total(found_.load());
  s.set_new_count(counts_[v1::DELTA_KIND_NEW]);
  s.set_unchanged(counts_[v1::DELTA_KIND_UNCHANGED]);
  s.set_changed(counts_[v1::DELTA_KIND_CHANGED]);
  s.set_escalated(counts_[v1::DELTA_KIND_ESCALATED]);
  s.set_deescalated(counts_[v1::DELTA_KIND_DEESCALATED]);
  s.set_failed(counts_[v1::DELTA_KIND_FAILED]);
  s.set_skipped_resumed(skipped_.load());
  s.set_seconds(absl::ToDoubleSeconds(absl::Now() - start_));
  return s;
}

}  // namespace achilles::caseload_internal
