// The caseload core (RunReEvaluation) driven directly, with the real store,
// engine and plugins of an in-process server: the run's policy comes from
// its snapshot, groups are stored whole or not at all, an erased patient
// gets nothing stored, resumes skip what was stored, every delta is
// streamed once, and interactive calls get the CPU first.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "services/caseload/caseload.h"
#include "storage/timeline_store.h"
#include "tests/common/events.h"
#include "tests/common/temp_dir.h"
#include "tests/integration/test_server.h"

namespace achilles::testing {
namespace {

// Everything a run handed to its sink.
struct Collected {
  absl::Mutex mu;
  std::string run_id;
  std::vector<std::vector<v1::PatientDelta>> batches ABSL_GUARDED_BY(mu);
  std::atomic<int> progress{0};
  v1::RunSummary summary;
  bool has_summary = false;

  std::map<std::string, v1::PatientDelta> ById() {
    absl::MutexLock lock(&mu);
    std::map<std::string, v1::PatientDelta> out;
    for (const auto& b : batches) {
      for (const auto& d : b) out[d.patient_id()] = d;
    }
    return out;
  }
  int Deltas() {
    absl::MutexLock lock(&mu);
    int n = 0;
    for (const auto& b : batches) n += static_cast<int>(b.size());
    return n;
  }
};

class CaseloadRunTest : public ::testing::Test {
 protected:
  void Seed(int n) {
    for (int i = 0; i < n; ++i) {
      const std::string id = Id(i);
      ASSERT_TRUE(s_.AddPatient(id).ok());
      v1::Event run = RunEvent("r1", Day(1), 5);
      auto* r = run.mutable_run_session()->mutable_response();
      r->set_settle_time_hours(12);
      r->set_morning_vs_baseline(v1::COMPARISON_SAME);
      r->set_eased_with_warmup(true);
      ASSERT_TRUE(
          s_.Append(id, {Finding("f", Day(0), v1::LOCATION_MIDPORTION), run})
              .ok());
    }
  }

  static std::string Id(int i) { return absl::StrFormat("p%04d", i); }

  caseload::Deps Deps(int workers, int group_size) {
    caseload::Deps deps;
    deps.store = store();
    deps.engine = s_.server()->backend()->engine;
    deps.host = s_.server()->backend()->host;
    deps.workers = workers;
    deps.group_size = group_size;
    return deps;
  }

  caseload::RunOptions Options() {
    caseload::RunOptions o;
    o.clinic = "default";
    o.as_of_us = Day(5);
    return o;
  }

  // A sink filling `out`; `on_batch(index)` runs after each batch is
  // recorded and says whether the run may go on.
  caseload::RunSink Sink(Collected* out,
                         std::function<bool(int)> on_batch = nullptr) {
    caseload::RunSink sink;
    sink.started = [out](const std::string& id) { out->run_id = id; };
    sink.deltas = [out, on_batch](std::vector<v1::PatientDelta> deltas) {
      int index;
      {
        absl::MutexLock lock(&out->mu);
        index = static_cast<int>(out->batches.size());
        out->batches.push_back(std::move(deltas));
      }
      return on_batch == nullptr || on_batch(index);
    };
    sink.progress = [out](const v1::Progress&) {
      ++out->progress;
      return true;
    };
    sink.summary = [out](const v1::RunSummary& s) {
      out->summary = s;
      out->has_summary = true;
    };
    return sink;
  }

  bool Marked(const std::string& run_id, const std::string& id) {
    return store()->GetPatientRecord("default", id, "run/" + run_id).ok();
  }

  storage::TimelineStore* store() { return s_.server()->backend()->store; }

  TestServer s_;
  std::atomic<bool> not_cancelled_{false};
};

// ARCHITECTURE.md: one snapshot per run, the policy included. The sink
// blocks the only worker while SetPolicy lands, so every later patient is
// evaluated after the change.
TEST_F(CaseloadRunTest, SetPolicyDuringARunDoesNotChangeItsPolicy) {
  Seed(12);
  v1::SetPolicyRequest set;
  v1::SetPolicyResponse resp;
  set.mutable_policy()->set_pain_model(v1::PAIN_MODEL_TRAFFIC_LIGHT_3_5);
  ASSERT_TRUE(s_.policies->SetPolicy(s_.Ctx().get(), set, &resp).ok());
  // Pain 5 is amber under the traffic light, red when the clinic requires
  // pain strictly below 5.
  v1::SetPolicyRequest strict;
  strict.mutable_policy()->set_pain_model(v1::PAIN_MODEL_SILBERNAGEL_5);
  strict.mutable_policy()->set_silbernagel_max_ok(5);
  strict.mutable_policy()->set_silbernagel_strictly_below(true);
  Collected out;
  std::atomic<bool> changed{false};
  auto st = caseload::RunReEvaluation(
      Deps(1, 3), Options(),
      Sink(&out,
           [&](int index) {
             if (index == 0) {
               changed =
                   s_.policies->SetPolicy(s_.Ctx().get(), strict, &resp).ok();
             }
             return true;
           }),
      not_cancelled_);
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_TRUE(changed.load());
  auto deltas = out.ById();
  ASSERT_EQ(deltas.size(), 12u);
  for (const auto& [id, d] : deltas) {
    auto ev = store()->GetEvaluation("default", id, d.evaluation_id());
    ASSERT_TRUE(ev.ok()) << id << ": " << ev.status();
    EXPECT_EQ(ev->policy_version(), 1) << id;
    EXPECT_EQ(d.current_severity(), deltas.begin()->second.current_severity())
        << id;
  }
  // The next run starts from the new policy and sees every patient
  // escalate.
  Collected next;
  ASSERT_TRUE(caseload::RunReEvaluation(Deps(1, 3), Options(), Sink(&next),
                                        not_cancelled_)
                  .ok());
  EXPECT_EQ(next.summary.escalated(), 12);
}

// Erased after the run's snapshot was taken: the run still evaluates the
// patient, but the group write refuses them and nothing of theirs is stored
// (not even keys a new patient with the same id would inherit).
TEST_F(CaseloadRunTest, APatientErasedDuringARunGetsNothingStored) {
  Seed(8);
  Collected out;
  auto st = caseload::RunReEvaluation(
      Deps(1, 2), Options(),
      Sink(&out,
           [&](int index) {
             if (index == 0) {
               EXPECT_TRUE(store()->DeletePatient("default", Id(7)).ok());
             }
             return true;
           }),
      not_cancelled_);
  ASSERT_TRUE(st.ok()) << st;
  auto deltas = out.ById();
  ASSERT_EQ(deltas.size(), 8u);
  const v1::PatientDelta& erased = deltas[Id(7)];
  EXPECT_EQ(erased.kind(), v1::DELTA_KIND_FAILED);
  EXPECT_NE(erased.error().find("not stored"), std::string::npos)
      << erased.error();
  EXPECT_EQ(out.summary.failed(), 1);
  v1::Patient again;
  again.set_patient_id(Id(7));
  ASSERT_TRUE(store()->UpsertPatient("default", again).ok());
  EXPECT_TRUE(absl::IsNotFound(
      store()->GetLatestEvaluation("default", Id(7)).status()));
  EXPECT_FALSE(Marked(out.run_id, Id(7)));
  EXPECT_TRUE(absl::IsNotFound(
      store()->GetPatientRecord("default", Id(7), "delta").status()));
  for (int i = 0; i < 7; ++i) EXPECT_TRUE(Marked(out.run_id, Id(i))) << i;
}

TEST_F(CaseloadRunTest, EveryDeltaIsStreamedExactlyOnceInBatches) {
  Seed(30);
  Collected out;
  auto st = caseload::RunReEvaluation(Deps(2, 4), Options(), Sink(&out),
                                      not_cancelled_);
  ASSERT_TRUE(st.ok()) << st;
  std::multiset<std::string> seen;
  size_t largest = 0;
  {
    absl::MutexLock lock(&out.mu);
    for (const auto& batch : out.batches) {
      largest = std::max(largest, batch.size());
      for (const auto& d : batch) seen.insert(d.patient_id());
    }
    EXPECT_LT(out.batches.size(), 30u);
  }
  EXPECT_EQ(seen.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(seen.count(Id(i)), 1u) << i;
  EXPECT_GT(largest, 1u);
  EXPECT_LE(largest, 4u);
  ASSERT_TRUE(out.has_summary);
  EXPECT_EQ(out.summary.total(), 30);
  EXPECT_EQ(out.summary.new_count(), 30);
  EXPECT_GE(out.progress, 1);
}

// Cancelled while the workers are mid-group: the patients stored (marker,
// latest evaluation, delta record) are exactly those of the groups the sink
// was given, each group whole, and each stored as its delta says.
TEST_F(CaseloadRunTest, ACancelledRunLeavesNoHalfWrittenGroup) {
  Seed(40);
  Collected out;
  std::atomic<bool> cancelled{false};
  auto st = caseload::RunReEvaluation(Deps(2, 5), Options(),
                                      Sink(&out,
                                           [&](int) {
                                             cancelled = true;
                                             return true;
                                           }),
                                      cancelled);
  ASSERT_TRUE(absl::IsCancelled(st)) << st;
  EXPECT_NE(st.message().find("resume_run_id=" + out.run_id), std::string::npos)
      << st;
  EXPECT_FALSE(out.has_summary);
  auto delivered = out.ById();
  int stored = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string id = Id(i);
    const bool marked = Marked(out.run_id, id);
    auto latest = store()->GetLatestEvaluation("default", id);
    const bool has_delta =
        store()->GetPatientRecord("default", id, "delta").ok();
    EXPECT_EQ(marked, latest.ok()) << id;
    EXPECT_EQ(marked, has_delta) << id;
    EXPECT_EQ(marked, delivered.count(id) == 1) << id;
    if (marked) {
      ++stored;
      EXPECT_EQ(latest->evaluation_id(), delivered[id].evaluation_id()) << id;
    }
  }
  EXPECT_GE(stored, 5);
  EXPECT_LT(stored, 40);
}

TEST_F(CaseloadRunTest, ResumeAfterCancelSkipsFinishedPatients) {
  Seed(20);
  Collected first;
  auto st = caseload::RunReEvaluation(
      Deps(1, 4), Options(), Sink(&first, [](int index) { return index < 1; }),
      not_cancelled_);
  ASSERT_TRUE(absl::IsCancelled(st)) << st;
  std::set<std::string> finished;
  for (int i = 0; i < 20; ++i) {
    if (Marked(first.run_id, Id(i))) finished.insert(Id(i));
  }
  // The two groups handed to the sink were stored; the stop came before
  // any other.
  ASSERT_EQ(static_cast<int>(finished.size()), first.Deltas());
  ASSERT_GT(finished.size(), 0u);

  caseload::RunOptions resume;
  resume.clinic = "default";
  resume.resume_run_id = first.run_id;
  Collected second;
  st = caseload::RunReEvaluation(Deps(2, 4), resume, Sink(&second),
                                 not_cancelled_);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(second.run_id, first.run_id);
  EXPECT_EQ(second.summary.total(), 20);
  EXPECT_EQ(second.summary.skipped_resumed(),
            static_cast<int64_t>(finished.size()));
  auto deltas = second.ById();
  EXPECT_EQ(deltas.size(), 20 - finished.size());
  EXPECT_EQ(second.Deltas(), static_cast<int>(20 - finished.size()));
  for (const auto& id : finished) EXPECT_EQ(deltas.count(id), 0u) << id;
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(Marked(first.run_id, Id(i))) << i;

  // Resuming takes no other field.
  resume.dry_run = true;
  EXPECT_TRUE(absl::IsInvalidArgument(caseload::RunReEvaluation(
      Deps(1, 4), resume, Sink(&second), not_cancelled_)));
}

// A worker waits for interactive calls to end, and is woken when the last
// one does, not at its deadline.
TEST(InteractiveGateTest, WaitsForTheLastPassAndWakesWhenItEnds) {
  caseload::InteractiveGate gate;
  const auto t0 = std::chrono::steady_clock::now();
  gate.AwaitQuiet(absl::Seconds(30));  // Nobody inside: no wait.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));

  auto first = std::make_unique<caseload::InteractiveGate::Pass>(&gate);
  auto second = std::make_unique<caseload::InteractiveGate::Pass>(&gate);
  EXPECT_EQ(gate.in_flight(), 2);
  std::atomic<bool> woke{false};
  std::thread worker([&] {
    gate.AwaitQuiet(absl::Seconds(30));
    woke = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(woke.load());
  first.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(woke.load()) << "woke while a call was still inside";
  const auto released = std::chrono::steady_clock::now();
  second.reset();
  worker.join();
  EXPECT_TRUE(woke.load());
  EXPECT_LT(std::chrono::steady_clock::now() - released,
            std::chrono::seconds(5));
  EXPECT_EQ(gate.in_flight(), 0);
}

// The yield is bounded: interactive calls that never end slow a run down,
// they do not stop it.
TEST(InteractiveGateTest, AWaitEndsAtItsBoundWhileCallsGoOn) {
  caseload::InteractiveGate gate;
  caseload::InteractiveGate::Pass busy(&gate);
  const auto t0 = std::chrono::steady_clock::now();
  gate.AwaitQuiet(absl::Milliseconds(50));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(45));
  EXPECT_LT(waited, std::chrono::seconds(5));
  caseload::InteractiveGate::Pass none(nullptr);  // A no-op.
  EXPECT_EQ(gate.in_flight(), 1);
}

TEST_F(CaseloadRunTest, ARunCompletesWhileInteractiveCallsNeverStop) {
  Seed(4);
  caseload::InteractiveGate gate;
  caseload::InteractiveGate::Pass busy(&gate);
  caseload::Deps deps = Deps(1, 2);
  deps.interactive = &gate;
  Collected out;
  ASSERT_TRUE(
      caseload::RunReEvaluation(deps, Options(), Sink(&out), not_cancelled_)
          .ok());
  EXPECT_EQ(out.summary.new_count(), 4);
}

// A group write the store refuses (a full disk) stops the run with the
// store's error and how to resume. Before, the run carried on to the end:
// the store cannot reopen while a run holds its snapshot, so every write
// on the server kept failing until then. Once the run has ended, the store
// accepts writes again.
TEST_F(CaseloadRunTest, AStoreThatRefusesAGroupStopsTheRun) {
  TempDir dir;
  std::atomic<bool> disk_full{false};
  storage::StoreOptions o;
  o.path = dir.Sub("db");
  o.block_cache_bytes = 8 << 20;
  o.memtable_budget_bytes = 8 << 20;
  o.fault_injector = [&disk_full](storage::FileOp op, const std::string&) {
    const bool write =
        op == storage::FileOp::kWrite || op == storage::FileOp::kSync;
    return disk_full.load() && write ? ENOSPC : 0;
  };
  auto opened = storage::OpenRocksDbStore(o);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<storage::TimelineStore> store = *std::move(opened);
  constexpr int kPatients = 40;
  for (int i = 0; i < kPatients; ++i) {
    v1::Patient p;
    p.set_patient_id(Id(i));
    ASSERT_TRUE(store->UpsertPatient("default", p).ok());
    ASSERT_TRUE(
        store
            ->AppendEvents("default", Id(i),
                           {Finding("f", Day(0), v1::LOCATION_MIDPORTION),
                            RunEvent("r1", Day(1), 5)})
            .ok());
  }
  engine::Engine engine(store.get(), s_.server()->backend()->host);
  caseload::Deps deps = Deps(1, 4);
  deps.store = store.get();
  deps.engine = &engine;
  Collected out;
  // The disk fills once the first group has been stored and reported.
  auto st = caseload::RunReEvaluation(deps, Options(),
                                      Sink(&out,
                                           [&](int) {
                                             disk_full = true;
                                             return true;
                                           }),
                                      not_cancelled_);
  EXPECT_TRUE(absl::IsResourceExhausted(st) || absl::IsUnavailable(st)) << st;
  EXPECT_NE(st.message().find("resume_run_id="), absl::string_view::npos) << st;
  EXPECT_FALSE(out.has_summary);
  EXPECT_LT(out.Deltas(), kPatients);
  disk_full = false;
  v1::Patient after;
  after.set_patient_id("after");
  EXPECT_TRUE(store->UpsertPatient("default", after).ok());
}

}  // namespace
}  // namespace achilles::testing
