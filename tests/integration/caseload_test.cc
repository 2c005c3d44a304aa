// CaseloadService over real gRPC: deltas across a plugin upgrade and a
// policy change, snapshot consistency under concurrent appends, cancel and
// resume, per-patient failures, dry runs, and the worklist order.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/str_format.h"
#include "tests/common/events.h"
#include "tests/integration/test_server.h"

namespace achilles::testing {
namespace {

namespace fs = std::filesystem;

struct RunOutput {
  grpc::Status status;
  std::string run_id;
  std::map<std::string, v1::PatientDelta> deltas;
  int delta_messages = 0;
  int repeated_deltas = 0;  // Patients reported more than once.
  v1::RunSummary summary;
  int progress_events = 0;
};

// Reads the whole stream; `after_first_delta` runs once, mid-stream, after
// the first message carrying deltas.
RunOutput RunStream(TestServer& s, const v1::ReEvaluateRequest& req,
                    const std::string& clinic = "",
                    const std::function<void(grpc::ClientContext&)>&
                        after_first_delta = nullptr) {
  RunOutput out;
  auto ctx = s.Ctx(clinic);
  auto reader = s.caseload->ReEvaluate(ctx.get(), req);
  v1::ReEvaluateEvent e;
  bool first = true;
  while (reader->Read(&e)) {
    out.run_id = e.run_id();
    EXPECT_FALSE(e.has_delta()) << "this server sends delta batches";
    if (e.has_delta_batch()) {
      ++out.delta_messages;
      for (const auto& d : e.delta_batch().deltas()) {
        out.repeated_deltas += out.deltas.count(d.patient_id());
        out.deltas[d.patient_id()] = d;
      }
      if (first && after_first_delta) after_first_delta(*ctx);
      first = false;
    }
    if (e.has_progress()) ++out.progress_events;
    if (e.has_summary()) out.summary = e.summary();
  }
  out.status = reader->Finish();
  return out;
}

v1::Event Pain5(const std::string& id, int64_t at) {
  v1::Event e = RunEvent(id, at, 5);
  auto* r = e.mutable_run_session()->mutable_response();
  r->set_settle_time_hours(12);
  r->set_morning_vs_baseline(v1::COMPARISON_SAME);
  r->set_eased_with_warmup(true);
  return e;
}

void Seed(TestServer& s, int n, int events_each,
          const std::string& clinic = "") {
  for (int i = 0; i < n; ++i) {
    const std::string id = absl::StrFormat("p%04d", i);
    ASSERT_TRUE(s.AddPatient(id, clinic).ok());
    std::vector<v1::Event> events = {
        Finding("f", Day(0), v1::LOCATION_MIDPORTION)};
    for (int k = 1; k < events_each; ++k) {
      events.push_back(Pain5("r" + std::to_string(k), Day(k)));
    }
    ASSERT_TRUE(s.Append(id, events, nullptr, clinic).ok());
  }
}

v1::ReEvaluateRequest AsOf(int64_t as_of) {
  v1::ReEvaluateRequest req;
  *req.mutable_as_of() = FromMicros(as_of);
  return req;
}

TEST(CaseloadTest, PolicyChangeEscalatesAndSummaryCounts) {
  TestServer s;
  Seed(s, 20, 3);
  auto first = RunStream(s, AsOf(Day(10)));
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_EQ(first.summary.total(), 20);
  EXPECT_EQ(first.summary.new_count(), 20);
  EXPECT_EQ(first.deltas.size(), 20u);
  // Several deltas per message, each patient once.
  EXPECT_EQ(first.repeated_deltas, 0);
  EXPECT_LT(first.delta_messages, 20);

  auto again = RunStream(s, AsOf(Day(10)));
  EXPECT_EQ(again.summary.unchanged(), 20);

  // Pain 5 is amber (info) under the traffic light, red (warning) when the
  // clinic requires pain strictly below 5.
  v1::SetPolicyRequest set;
  v1::SetPolicyResponse resp;
  set.mutable_policy()->set_pain_model(v1::PAIN_MODEL_SILBERNAGEL_5);
  set.mutable_policy()->set_silbernagel_max_ok(5);
  set.mutable_policy()->set_silbernagel_strictly_below(true);
  ASSERT_TRUE(s.policies->SetPolicy(s.Ctx().get(), set, &resp).ok());
  auto after = RunStream(s, AsOf(Day(10)));
  ASSERT_TRUE(after.status.ok());
  EXPECT_EQ(after.summary.escalated(), 20);
  const auto& d = after.deltas["p0003"];
  EXPECT_EQ(d.kind(), v1::DELTA_KIND_ESCALATED);
  EXPECT_EQ(d.previous_severity(), v1::SEVERITY_INFO);
  EXPECT_EQ(d.current_severity(), v1::SEVERITY_WARNING);

  // The worklist now shows the escalations first, with what changed.
  v1::WorklistRequest wreq;
  v1::WorklistResponse wl;
  wreq.set_page_size(5);
  ASSERT_TRUE(s.caseload->Worklist(s.Ctx().get(), wreq, &wl).ok());
  ASSERT_EQ(wl.items_size(), 5);
  EXPECT_EQ(wl.items(0).last_delta(), v1::DELTA_KIND_ESCALATED);
  EXPECT_FALSE(wl.next_page_token().empty());
}

TEST(CaseloadTest, PluginUpgradeShowsAsChanged) {
  TestServer s(false);
  const std::string plugins = s.dir().Sub("plugins/");
  fs::copy_file(std::string(TEST_PLUGIN_DIR) + "/good.so", plugins + "good.so");
  ASSERT_TRUE(s.server()->ReloadPlugins().ok());
  Seed(s, 5, 2);
  ASSERT_TRUE(RunStream(s, AsOf(Day(5))).status.ok());
  fs::copy_file(std::string(TEST_PLUGIN_DIR) + "/good_v2.so",
                plugins + "good.so.new");
  fs::rename(plugins + "good.so.new", plugins + "good.so");
  ASSERT_TRUE(s.server()->ReloadPlugins().ok());
  auto after = RunStream(s, AsOf(Day(5)));
  ASSERT_TRUE(after.status.ok());
  EXPECT_EQ(after.summary.changed(), 5);
  EXPECT_EQ(after.deltas["p0001"].kind(), v1::DELTA_KIND_CHANGED);
}

TEST(CaseloadTest, APluginFailureIsReportedNotCountedAsResolvedAdvice) {
  TestServer s(false);
  fs::copy_file(std::string(TEST_PLUGIN_DIR) + "/good.so",
                s.dir().Sub("plugins/good.so"));
  ASSERT_TRUE(s.server()->ReloadPlugins().ok());
  Seed(s, 3, 2);
  ASSERT_TRUE(RunStream(s, AsOf(Day(5))).status.ok());
  // The plugin now fails: its advice disappears for a reason that has
  // nothing to do with the patients.
  fs::copy_file(std::string(TEST_PLUGIN_DIR) + "/erroring.so",
                s.dir().Sub("plugins/good.so.new"));
  fs::rename(s.dir().Sub("plugins/good.so.new"),
             s.dir().Sub("plugins/good.so"));
  ASSERT_TRUE(s.server()->ReloadPlugins().ok());
  auto out = RunStream(s, AsOf(Day(5)));
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.summary.failed(), 3);
  EXPECT_EQ(out.summary.changed(), 0);
  EXPECT_NE(out.deltas["p0001"].error().find("plugin erroring failed"),
            std::string::npos)
      << out.deltas["p0001"].error();
}

TEST(CaseloadTest, ReadsOneSnapshotWhileAppendsContinue) {
  TestServer s(true, [](server::ServerOptions& o) { o.caseload_workers = 1; });
  Seed(s, 60, 4);
  // Once the first delta arrives the run has its snapshot; every patient
  // then gets a new event while the rest of the run is still going.
  int appended = 0;
  auto out = RunStream(s, AsOf(Day(10)), "", [&](grpc::ClientContext&) {
    for (int i = 0; i < 60; ++i) {
      appended +=
          s.Append(absl::StrFormat("p%04d", i), {Note("late", Day(2) + 1000)})
              .ok();
    }
  });
  ASSERT_TRUE(out.status.ok());
  ASSERT_EQ(appended, 60);
  ASSERT_EQ(out.deltas.size(), 60u);
  for (const auto& [id, d] : out.deltas) {
    auto ev = s.server()->backend()->store->GetEvaluation("default", id,
                                                          d.evaluation_id());
    ASSERT_TRUE(ev.ok());
    EXPECT_EQ(ev->event_count(), 4) << id
                                    << " saw an append made after the "
                                       "run's snapshot";
  }
  // A fresh run sees them.
  auto next = RunStream(s, AsOf(Day(10)));
  auto ev = s.server()->backend()->store->GetEvaluation(
      "default", "p0042", next.deltas["p0042"].evaluation_id());
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->event_count(), 5);
}

TEST(CaseloadTest, CancelThenResumeSkipsFinishedPatients) {
  TestServer s(true, [](server::ServerOptions& o) { o.caseload_workers = 1; });
  Seed(s, 300, 3);
  auto cancelled = RunStream(s, AsOf(Day(10)), "",
                             [](grpc::ClientContext& ctx) { ctx.TryCancel(); });
  EXPECT_EQ(cancelled.status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_FALSE(cancelled.run_id.empty());
  v1::ReEvaluateRequest resume;
  resume.set_resume_run_id(cancelled.run_id);
  auto resumed = RunStream(s, resume);
  ASSERT_TRUE(resumed.status.ok()) << resumed.status.error_message();
  EXPECT_EQ(resumed.summary.total(), 300);
  EXPECT_GT(resumed.summary.skipped_resumed(), 0);
  EXPECT_LT(resumed.summary.skipped_resumed(), 300);
  EXPECT_EQ(resumed.summary.skipped_resumed() +
                static_cast<int64_t>(resumed.deltas.size()),
            300);
  EXPECT_EQ(resumed.repeated_deltas, 0);
  // The resumed run reports none of the patients the first one reported.
  for (const auto& [id, d] : cancelled.deltas) {
    EXPECT_EQ(resumed.deltas.count(id), 0u) << id;
  }
  // Resume refuses other fields and unknown ids.
  resume.set_dry_run(true);
  EXPECT_EQ(RunStream(s, resume).status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ReEvaluateRequest unknown;
  unknown.set_resume_run_id("run-nope");
  EXPECT_EQ(RunStream(s, unknown).status.error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(CaseloadTest, ResumingAnExplicitListSkipsErasedPatients) {
  TestServer s(true, [](server::ServerOptions& o) { o.caseload_workers = 1; });
  Seed(s, 200, 2);
  v1::ReEvaluateRequest req = AsOf(Day(5));
  for (int i = 0; i < 200; ++i) {
    req.add_patient_ids(absl::StrFormat("p%04d", i));
  }
  auto cancelled =
      RunStream(s, req, "", [](grpc::ClientContext& ctx) { ctx.TryCancel(); });
  ASSERT_EQ(cancelled.status.error_code(), grpc::StatusCode::CANCELLED);
  // Erase a patient the run had not reached: the resumed run no longer
  // knows about them, and the stored run names nobody.
  v1::DeletePatientRequest del;
  v1::DeletePatientResponse del_resp;
  del.set_patient_id("p0199");
  ASSERT_TRUE(s.patients->DeletePatient(s.Ctx().get(), del, &del_resp).ok());
  auto record = s.server()->backend()->store->GetRecord(
      "default", "run/" + cancelled.run_id);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->find("p0199"), std::string::npos);
  v1::ReEvaluateRequest resume;
  resume.set_resume_run_id(cancelled.run_id);
  auto resumed = RunStream(s, resume);
  ASSERT_TRUE(resumed.status.ok()) << resumed.status.error_message();
  EXPECT_EQ(resumed.summary.total(), 199);
  EXPECT_EQ(resumed.summary.failed(), 0);
  EXPECT_FALSE(resumed.deltas.count("p0199"));
}

TEST(CaseloadTest, OneFailingPatientDoesNotStopTheRun) {
  TestServer s;
  Seed(s, 3, 2);
  v1::ReEvaluateRequest req = AsOf(Day(5));
  req.add_patient_ids("p0000");
  req.add_patient_ids("ghost");
  req.add_patient_ids("p0002");
  auto out = RunStream(s, req);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.summary.total(), 3);
  EXPECT_EQ(out.summary.failed(), 1);
  EXPECT_EQ(out.deltas["ghost"].kind(), v1::DELTA_KIND_FAILED);
  EXPECT_NE(out.deltas["ghost"].error().find("not found"), std::string::npos);
  EXPECT_EQ(out.deltas["p0002"].kind(), v1::DELTA_KIND_NEW);
}

TEST(CaseloadTest, DryRunPreviewsAPolicyAndStoresNothing) {
  TestServer s;
  Seed(s, 4, 3);
  ASSERT_TRUE(RunStream(s, AsOf(Day(10))).status.ok());
  auto* store = s.server()->backend()->store;
  auto before = store->GetLatestEvaluation("default", "p0001");
  ASSERT_TRUE(before.ok());
  v1::ReEvaluateRequest req = AsOf(Day(10));
  req.set_dry_run(true);
  req.mutable_policy_override()->set_pain_model(v1::PAIN_MODEL_SILBERNAGEL_5);
  req.mutable_policy_override()->set_silbernagel_strictly_below(true);
  auto preview = RunStream(s, req);
  ASSERT_TRUE(preview.status.ok());
  EXPECT_EQ(preview.summary.escalated(), 4);
  auto after = store->GetLatestEvaluation("default", "p0001");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->evaluation_id(), before->evaluation_id());
  // Without dry_run the override is refused: policy changes go through
  // SetPolicy.
  req.set_dry_run(false);
  EXPECT_EQ(RunStream(s, req).status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(CaseloadTest, TwoRunsForOneClinicDoNotInterfere) {
  TestServer s;
  Seed(s, 80, 3);
  RunOutput a, b;
  std::thread other([&] { b = RunStream(s, AsOf(Day(10))); });
  a = RunStream(s, AsOf(Day(10)));
  other.join();
  ASSERT_TRUE(a.status.ok());
  ASSERT_TRUE(b.status.ok());
  EXPECT_NE(a.run_id, b.run_id);
  EXPECT_EQ(a.summary.total(), 80);
  EXPECT_EQ(b.summary.total(), 80);
  EXPECT_EQ(a.summary.failed() + b.summary.failed(), 0);
  // Both computed the same advice for every patient.
  for (const auto& [id, d] : a.deltas) {
    EXPECT_EQ(d.evaluation_id(), b.deltas[id].evaluation_id()) << id;
  }
  // And a third run sees nothing changed.
  auto c = RunStream(s, AsOf(Day(10)));
  EXPECT_EQ(c.summary.unchanged(), 80);
}

TEST(CaseloadTest, ScopesAndValidation) {
  TestServer s;
  Seed(s, 5, 2);
  ASSERT_TRUE(s.Append("p0004", {Note("recent", Day(40))}).ok());
  v1::ReEvaluateRequest since = AsOf(Day(50));
  *since.mutable_events_since() = FromMicros(Day(30));
  auto out = RunStream(s, since);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.summary.total(), 1);
  EXPECT_TRUE(out.deltas.count("p0004"));
  since.add_patient_ids("p0001");
  EXPECT_EQ(RunStream(s, since).status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Another clinic's caseload is separate.
  auto other = RunStream(s, AsOf(Day(5)), "clinic-b");
  ASSERT_TRUE(other.status.ok());
  EXPECT_EQ(other.summary.total(), 0);
}

TEST(CaseloadTest, PatientIdsAreCappedAndNeverRepeated) {
  TestServer s(false);
  Seed(s, 3, 1);
  v1::ReEvaluateRequest repeated = AsOf(Day(5));
  repeated.set_dry_run(true);
  for (const char* id : {"p0000", "p0001", "p0000"}) {
    repeated.add_patient_ids(id);
  }
  auto out = RunStream(s, repeated);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(out.status.error_message().find("patient_ids[2]"),
            std::string::npos)
      << out.status.error_message();
  EXPECT_NE(out.status.error_message().find("patient_ids[0]"),
            std::string::npos)
      << out.status.error_message();

  v1::ReEvaluateRequest too_many = AsOf(Day(5));
  too_many.set_dry_run(true);
  for (int i = 0; i <= validation::kMaxPatientIds; ++i) {
    too_many.add_patient_ids(absl::StrFormat("x%05d", i));
  }
  out = RunStream(s, too_many);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(out.status.error_message().find("patient_ids"), std::string::npos)
      << out.status.error_message();
}

// A client that opens ReEvaluate streams and stops reading keeps each run
// (a snapshot and several threads) alive: beyond --max_caseload_runs the
// next stream is refused, and a slot comes back when a stream ends.
TEST(CaseloadTest, ConcurrentRunsAreBoundedAndTheExtraOneIsRefused) {
  TestServer s(false, [](server::ServerOptions& o) {
    o.sync_writes = false;              // Seeding speed only.
    ASSERT_EQ(o.max_caseload_runs, 2);  // The default is what is tested.
  });
  // Enough delta bytes (in batches) to fill the stream's flow-control
  // window, so a stream whose client does not read cannot end.
  Seed(s, 800, 1);
  struct Stalled {
    std::unique_ptr<grpc::ClientContext> ctx;
    std::unique_ptr<grpc::ClientReader<v1::ReEvaluateEvent>> reader;
  };
  std::vector<Stalled> stalled;
  for (int i = 0; i < 2; ++i) {
    Stalled st;
    st.ctx = s.Ctx();
    st.reader = s.caseload->ReEvaluate(st.ctx.get(), AsOf(Day(5)));
    v1::ReEvaluateEvent first;
    ASSERT_TRUE(st.reader->Read(&first)) << "run " << i << " did not start";
    stalled.push_back(std::move(st));
  }
  auto refused = RunStream(s, AsOf(Day(5)));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.status.error_message().find("max_caseload_runs"),
            std::string::npos)
      << refused.status.error_message();

  // Ending one stream gives its slot back.
  stalled[0].ctx->TryCancel();
  v1::ReEvaluateEvent ignored;
  while (stalled[0].reader->Read(&ignored)) {
  }
  stalled[0].reader->Finish();
  RunOutput after;
  for (int attempt = 0; attempt < 100; ++attempt) {
    after = RunStream(s, AsOf(Day(5)));
    if (after.status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(after.summary.total(), 800);
  stalled[1].ctx->TryCancel();
  while (stalled[1].reader->Read(&ignored)) {
  }
  stalled[1].reader->Finish();
}

}  // namespace
}  // namespace achilles::testing
