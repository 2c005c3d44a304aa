#include "services/caseload/caseload.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/thread_util.h"
#include "common/time_util.h"
#include "services/validation/validation.h"

namespace achilles::caseload {
namespace {

using ::achilles::v1::DeltaKind;
using ::achilles::v1::Evaluation;
using ::achilles::v1::PatientDelta;
using ::achilles::v1::ReEvaluateEvent;
using ::achilles::v1::ReEvaluateRequest;

constexpr int kQueueCapacity = 256;

// A bounded multi-producer multi-consumer queue: Push blocks while full,
// so a fast producer cannot grow memory with the caseload.
class BoundedQueue {
 public:
  bool Push(std::string item, const std::atomic<bool>& cancelled) {
    absl::MutexLock lock(&mu_);
    auto room = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return items_.size() < kQueueCapacity || closed_ || cancelled.load();
    };
    while (!room())
      mu_.AwaitWithTimeout(absl::Condition(&room), absl::Milliseconds(50));
    if (closed_ || cancelled.load()) return false;
    items_.push_back(std::move(item));
    return true;
  }
  std::optional<std::string> Pop(const std::atomic<bool>& cancelled) {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !items_.empty() || closed_ || cancelled.load();
    };
    while (!ready())
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(50));
    if (items_.empty() || cancelled.load()) return std::nullopt;
    std::string item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

 private:
  absl::Mutex mu_;
  std::deque<std::string> items_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

std::string NewRunId() {
  std::random_device rd;
  std::string bytes(8, '\0');
  for (auto& c : bytes) c = static_cast<char>(rd());
  return absl::StrCat("run-", absl::BytesToHexString(bytes));
}

v1::Severity TopSeverity(const Evaluation& ev) {
  return ev.recommendations().empty() ? v1::SEVERITY_UNSPECIFIED
                                      : ev.recommendations(0).severity();
}

absl::Status Validate(const ReEvaluateRequest& req) {
  const int scopes = (req.patient_ids_size() > 0) + req.has_events_since() +
                     !req.plugin_id().empty();
  if (scopes > 1) {
    return absl::InvalidArgumentError(
        "scope: set at most one of patient_ids, events_since, plugin_id");
  }
  if (auto st = validation::ValidateIdList("patient_ids", req.patient_ids(),
                                           validation::kMaxPatientIds);
      !st.ok()) {
    return st;
  }
  if (req.has_policy_override()) {
    if (!req.dry_run()) {
      return absl::InvalidArgumentError(
          "policy_override: only allowed with dry_run (a preview); change the "
          "policy with SetPolicy to apply it");
    }
    if (auto st = validation::ValidatePolicy(req.policy_override()); !st.ok()) {
      return st;
    }
  }
  if (req.has_as_of()) {
    if (auto st = validation::ValidatePastTimestamp("as_of", req.as_of(),
                                                    NowMicros());
        !st.ok()) {
      return st;
    }
  }
  if (req.has_events_since()) {
    if (auto st =
            validation::ValidateTimestamp("events_since", req.events_since());
        !st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace

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

absl::Status RunReEvaluation(const Deps& deps, const std::string& clinic,
                             const ReEvaluateRequest& original,
                             const Sender& send,
                             const std::atomic<bool>& cancelled) {
  ReEvaluateRequest req = original;
  std::string run_id;
  bool resumed = false;
  if (!original.resume_run_id().empty()) {
    if (auto st =
            validation::ValidateId("resume_run_id", original.resume_run_id());
        !st.ok()) {
      return st;
    }
    ReEvaluateRequest rest = original;
    rest.clear_resume_run_id();
    if (rest.ByteSizeLong() != 0) {
      return absl::InvalidArgumentError(
          "resume_run_id: give no other fields; a resumed run uses the "
          "scope and as_of it started with");
    }
    auto stored =
        deps.store->GetRecord(clinic, "run/" + original.resume_run_id());
    if (!stored.ok()) {
      return absl::NotFoundError(absl::StrCat("resume_run_id: no run '",
                                              original.resume_run_id(),
                                              "' for this clinic"));
    }
    v1::RunRecord record;
    if (!record.ParseFromString(*stored)) {
      return absl::DataLossError("stored run record does not parse");
    }
    req = record.request();
    if (record.explicit_scope()) {
      // The list lives with the patients, so erased ones are gone from it.
      const std::string scope_key = "runscope/" + original.resume_run_id();
      auto st =
          deps.store->ForEachPatientId(clinic, [&](const std::string& id) {
            if (deps.store->GetPatientRecord(clinic, id, scope_key).ok()) {
              req.add_patient_ids(id);
            }
            return absl::OkStatus();
          });
      if (!st.ok()) return st;
    }
    run_id = original.resume_run_id();
    resumed = true;
  } else {
    if (auto st = Validate(req); !st.ok()) return st;
    if (!req.has_as_of()) *req.mutable_as_of() = FromMicros(NowMicros());
    run_id = req.dry_run() ? "dry-run" : NewRunId();
    if (!req.dry_run()) {
      v1::RunRecord record;
      *record.mutable_request() = req;
      record.mutable_request()->clear_patient_ids();
      record.set_explicit_scope(req.patient_ids_size() > 0);
      for (const auto& id : req.patient_ids()) {
        // Unknown ids get no record (it would belong to nobody's erasure);
        // they fail in this run and are not retried on resume.
        if (deps.store->GetPatient(clinic, id).ok()) {
          if (auto st = deps.store->PutPatientRecord(
                  clinic, id, "runscope/" + run_id, "", false);
              !st.ok()) {
            return st;
          }
        }
      }
      if (auto st = deps.store->PutRecord(clinic, "run/" + run_id,
                                          record.SerializeAsString());
          !st.ok()) {
        return st;
      }
    }
  }
  const int64_t as_of = ToMicros(req.as_of());
  const std::string marker = "run/" + run_id;
  auto snapshot = deps.store->GetSnapshot();
  const auto plugins = deps.host->Current();
  const v1::ClinicPolicy* policy_override =
      req.has_policy_override() ? &req.policy_override() : nullptr;

  auto in_scope = [&](const std::string& id) -> bool {
    if (req.has_events_since()) {
      auto last = deps.store->LastEventMicros(clinic, id, snapshot.get());
      return last.ok() && last->has_value() &&
             **last >= ToMicros(req.events_since());
    }
    if (!req.plugin_id().empty()) {
      auto ev = deps.store->GetLatestEvaluation(clinic, id, snapshot.get());
      if (!ev.ok()) return false;
      return std::any_of(
          ev->recommendations().begin(), ev->recommendations().end(),
          [&](const auto& r) { return r.plugin_id() == req.plugin_id(); });
    }
    return true;
  };
  // Visits the scope in id order without holding it in memory.
  auto for_each = [&](const std::function<absl::Status(const std::string&)>& fn)
      -> absl::Status {
    if (req.patient_ids_size() > 0) {
      for (const auto& id : req.patient_ids()) {
        if (auto st = fn(id); !st.ok()) return st;
      }
      return absl::OkStatus();
    }
    return deps.store->ForEachPatientId(
        clinic,
        [&](const std::string& id) {
          return in_scope(id) ? fn(id) : absl::OkStatus();
        },
        snapshot.get());
  };

  int64_t total = 0;
  if (auto st = for_each([&](const std::string&) {
        ++total;
        return cancelled.load() ? absl::CancelledError("cancelled")
                                : absl::OkStatus();
      });
      !st.ok() && !absl::IsCancelled(st)) {
    return st;
  }

  std::atomic<int64_t> done{0}, fresh{0};
  std::atomic<int64_t> counts[7] = {};  // By DeltaKind.
  std::atomic<int64_t> skipped{0};
  std::atomic<bool> stop{false};
  auto stopping = [&] { return cancelled.load() || stop.load(); };
  BoundedQueue queue;
  std::vector<std::thread> threads;  // Producer, workers, reporter.
  // When the system refuses a thread: stop those already started and fail
  // the run with RESOURCE_EXHAUSTED (resumable like a cancelled one).
  auto give_up = [&](const absl::Status& refused) {
    stop = true;
    queue.Close();
    for (auto& t : threads) t.join();
    return absl::ResourceExhaustedError(absl::StrCat(
        refused.message(),
        req.dry_run()
            ? ""
            : absl::StrCat("; resume later with resume_run_id=", run_id)));
  };
  auto producer = StartThread("the caseload scope reader", [&] {
    for_each([&](const std::string& id) {
      return queue.Push(id, cancelled) ? absl::OkStatus()
                                       : absl::CancelledError("stopped");
    }).IgnoreError();
    queue.Close();
  });
  if (!producer.ok()) return give_up(producer.status());
  threads.push_back(*std::move(producer));

  const int workers =
      deps.workers > 0
          ? deps.workers
          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (int w = 0; w < workers; ++w) {
    auto worker = StartThread("a caseload worker", [&] {
      while (auto id = queue.Pop(cancelled)) {
        if (stopping()) break;
        if (resumed && deps.store->GetPatientRecord(clinic, *id, marker).ok()) {
          ++skipped;
          ++done;
          continue;
        }
        // Interactive calls go first: step aside briefly while any is in
        // flight, but never starve the batch.
        for (int spins = 0;
             deps.interactive_in_flight != nullptr &&
             deps.interactive_in_flight->load() > 0 && spins < 100;
             ++spins) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        PatientDelta delta;
        auto previous =
            deps.store->GetLatestEvaluation(clinic, *id, snapshot.get());
        engine::EvaluateOptions options;
        options.as_of_us = as_of;
        options.dry_run = req.dry_run();
        options.policy_override = policy_override;
        options.snapshot = snapshot.get();
        options.plugins = plugins;
        auto ev = deps.engine->Evaluate(clinic, *id, options);
        if (!ev.ok()) {
          delta.set_patient_id(*id);
          delta.set_kind(v1::DELTA_KIND_FAILED);
          delta.set_error(std::string(ev.status().message()));
        } else {
          delta = ComputeDelta(previous.ok() ? &*previous : nullptr, *ev);
          // Advice missing because a plugin failed is not a change in the
          // patient: report the failure instead of "resolved".
          std::string failures;
          for (const auto& run : ev->plugins()) {
            if (run.status() == v1::PLUGIN_RUN_STATUS_FAILED) {
              absl::StrAppend(&failures, failures.empty() ? "" : "; ",
                              "plugin ", run.plugin_id(),
                              " failed: ", run.error());
            }
          }
          if (!failures.empty()) {
            delta.set_kind(v1::DELTA_KIND_FAILED);
            delta.set_error(failures);
          }
          if (!req.dry_run()) {
            // Not fsynced: a marker or delta lost in a crash only means the
            // patient is evaluated again on resume.
            deps.store
                ->PutPatientRecord(clinic, *id, "delta",
                                   delta.SerializeAsString(), false)
                .IgnoreError();
            deps.store->PutPatientRecord(clinic, *id, marker, "", false)
                .IgnoreError();
          }
        }
        ++counts[delta.kind()];
        ++fresh;
        ++done;
        ReEvaluateEvent event;
        event.set_run_id(run_id);
        *event.mutable_delta() = std::move(delta);
        if (!send(event)) {
          stop = true;
          break;
        }
      }
    });
    if (!worker.ok()) return give_up(worker.status());
    threads.push_back(*std::move(worker));
  }

  const absl::Time start = absl::Now();
  auto progress = [&] {
    ReEvaluateEvent event;
    event.set_run_id(run_id);
    auto* p = event.mutable_progress();
    p->set_done(done.load());
    p->set_total(total);
    const double secs = absl::ToDoubleSeconds(absl::Now() - start);
    const double rate = secs > 0 ? fresh.load() / secs : 0;
    p->set_patients_per_second(rate);
    p->set_eta_seconds(rate > 0 ? (total - done.load()) / rate : 0);
    return event;
  };
  // Report progress four times a second until the workers finish.
  std::atomic<bool> workers_done{false};
  auto reporter = StartThread("caseload progress", [&] {
    while (!workers_done.load()) {
      for (int i = 0; i < 25 && !workers_done.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (!workers_done.load() && !stopping()) {
        if (!send(progress())) stop = true;
      }
    }
  });
  if (!reporter.ok()) return give_up(reporter.status());
  // threads[0] is the producer, then the workers.
  for (size_t i = 1; i < threads.size(); ++i) threads[i].join();
  workers_done = true;
  reporter->join();
  if (stopping()) {
    // Unblock the producer if it is waiting for room.
    queue.Close();
  }
  threads[0].join();

  if (stopping()) {
    return absl::CancelledError(absl::StrCat(
        "run ", run_id, " stopped after ", done.load(), " of ", total,
        " patients",
        req.dry_run() ? ""
                      : absl::StrCat("; resume with resume_run_id=", run_id)));
  }
  send(progress());
  ReEvaluateEvent final_event;
  final_event.set_run_id(run_id);
  auto* s = final_event.mutable_summary();
  s->set_total(total);
  s->set_new_count(counts[v1::DELTA_KIND_NEW]);
  s->set_unchanged(counts[v1::DELTA_KIND_UNCHANGED]);
  s->set_changed(counts[v1::DELTA_KIND_CHANGED]);
  s->set_escalated(counts[v1::DELTA_KIND_ESCALATED]);
  s->set_deescalated(counts[v1::DELTA_KIND_DEESCALATED]);
  s->set_failed(counts[v1::DELTA_KIND_FAILED]);
  s->set_skipped_resumed(skipped.load());
  s->set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  send(final_event);
  return absl::OkStatus();
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
  const int page_size = req.page_size() == 0 ? 50 : req.page_size();
  const int64_t stale_before =
      NowMicros() -
      (req.stale_after_days() == 0 ? 14 : req.stale_after_days()) *
          kMicrosPerDay;
  std::vector<v1::WorklistItem> items;
  auto st = deps.store->ForEachPatientId(clinic, [&](const std::string& id) {
    v1::WorklistItem item;
    item.set_patient_id(id);
    auto ev = deps.store->GetLatestEvaluation(clinic, id);
    if (ev.ok() && !ev->recommendations().empty()) {
      const auto& top = ev->recommendations(0);
      item.set_top_severity(top.severity());
      item.set_top_recommendation_id(top.id());
      item.set_top_summary(top.summary());
      item.set_evaluation_id(ev->evaluation_id());
    }
    auto delta = deps.store->GetPatientRecord(clinic, id, "delta");
    if (delta.ok()) {
      PatientDelta d;
      if (d.ParseFromString(*delta)) item.set_last_delta(d.kind());
    }
    auto last = deps.store->LastEventMicros(clinic, id);
    if (!last.ok()) return last.status();
    if (last->has_value()) *item.mutable_last_event_at() = FromMicros(**last);
    item.set_stale(!last->has_value() || **last < stale_before);
    items.push_back(std::move(item));
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  // Reading every patient's latest advice is a read of patient data.
  auto key = [](const v1::WorklistItem& i) {
    return std::make_tuple(
        i.top_severity() == v1::SEVERITY_CRITICAL ? 0 : 1,
        i.last_delta() == v1::DELTA_KIND_ESCALATED ? 0 : 1, i.stale() ? 0 : 1,
        -static_cast<int>(i.top_severity()), std::cref(i.patient_id()));
  };
  std::sort(items.begin(), items.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
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
