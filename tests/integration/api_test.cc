// The public API over real loopback gRPC: validation, tenancy, idempotency,
// erasure, paging, evaluation storage, feedback, policy and plugin admin.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/strings/escaping.h"
#include "tests/common/events.h"
#include "tests/integration/test_server.h"

namespace achilles::testing {
namespace {

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(s_.AddPatient("p1").ok()); }

  // Asserts `st` is INVALID_ARGUMENT and its message mentions `field`.
  static void ExpectInvalid(const grpc::Status& st, const std::string& field) {
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << st.error_message();
    EXPECT_NE(st.error_message().find(field), std::string::npos)
        << "message '" << st.error_message() << "' does not name " << field;
  }

  // A unary call with hand-made request bytes, for inputs the generated
  // stubs cannot produce and services whose .proto Debian does not ship.
  grpc::Status RawUnary(const std::string& method, const std::string& request,
                        std::string* response) {
    grpc::GenericStub generic(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(s_.server()->port()),
                            grpc::InsecureChannelCredentials()));
    grpc::Slice slice(request);
    grpc::ByteBuffer request_buf(&slice, 1);
    grpc::ByteBuffer response_buf;
    grpc::ClientContext ctx;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    generic.UnaryCall(&ctx, method, grpc::StubOptions(), &request_buf,
                      &response_buf, [&](grpc::Status st) {
                        std::lock_guard<std::mutex> lock(mu);
                        status = st;
                        done = true;
                        cv.notify_one();
                      });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    std::vector<grpc::Slice> slices;
    if (status.ok() && response_buf.Dump(&slices).ok()) {
      for (const auto& sl : slices) {
        response->append(reinterpret_cast<const char*>(sl.begin()), sl.size());
      }
    }
    return status;
  }

  int64_t Count(const std::string& patient) {
    v1::GetPatientRequest req;
    v1::GetPatientResponse resp;
    req.set_patient_id(patient);
    auto st = s_.patients->GetPatient(s_.Ctx().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.event_count();
  }

  TestServer s_;
};

TEST_F(ApiTest, ValidationErrorsNameTheFieldAndStoreNothing) {
  const int64_t now = NowMicros();
  auto good = Note("ok", now - kMicrosPerHour);

  auto pain11 = RunEvent("bad", now - kMicrosPerHour, 11);
  ExpectInvalid(s_.Append("p1", {good, pain11}),
                "events[1].run_session.response.pain_during");

  auto no_id = Note("", now - kMicrosPerHour);
  ExpectInvalid(s_.Append("p1", {good, no_id}), "events[1].event_id");

  auto future = Note("f", now + 2 * kMicrosPerDay);
  ExpectInvalid(s_.Append("p1", {good, future}), "events[1].occurred_at");

  auto no_time = Note("t", now);
  no_time.clear_occurred_at();
  ExpectInvalid(s_.Append("p1", {no_time}), "events[0].occurred_at");

  auto bad_enum = RunEvent("e", now - kMicrosPerHour, 1);
  bad_enum.mutable_run_session()->mutable_response()->set_morning_vs_baseline(
      static_cast<v1::Comparison>(42));
  ExpectInvalid(s_.Append("p1", {bad_enum}), "morning_vs_baseline");

  auto no_kind = MakeEvent("k", now - kMicrosPerHour);
  ExpectInvalid(s_.Append("p1", {no_kind}), "events[0]");

  std::vector<v1::Event> big;
  for (int i = 0; i < 501; ++i) {
    big.push_back(Note("n" + std::to_string(i), now - kMicrosPerHour));
  }
  ExpectInvalid(s_.Append("p1", big), "batch limit");
  ExpectInvalid(s_.Append("p1", {}), "events");
  ExpectInvalid(s_.Append("", {good}), "patient_id");
  ExpectInvalid(s_.Append("bad id", {good}), "patient_id");

  // None of the rejected batches left anything behind.
  EXPECT_EQ(Count("p1"), 0);
}

TEST_F(ApiTest, MalformedUtf8IsRejected) {
  // Build the bytes by hand: protobuf's C++ serializer would refuse to
  // emit invalid UTF-8 in a string field for us.
  v1::UpsertPatientRequest req;
  req.mutable_patient()->set_patient_id("p2");
  std::string bytes = req.SerializeAsString();
  // Field 1 (patient), then inside it field 2 (display_name) = "\xff".
  v1::Patient p;
  p.set_patient_id("p2");
  std::string inner = p.SerializeAsString() + std::string("\x12\x01\xff", 3);
  bytes = std::string("\x0a", 1) + static_cast<char>(inner.size()) + inner;
  std::string ignored;
  grpc::Status status =
      RawUnary("/achilles.v1.PatientService/UpsertPatient", bytes, &ignored);
  ExpectInvalid(status, "not valid UTF-8");
  v1::GetPatientRequest get;
  v1::GetPatientResponse got;
  get.set_patient_id("p2");
  EXPECT_EQ(s_.patients->GetPatient(s_.Ctx().get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ApiTest, UnknownMethodStaysUnimplemented) {
  std::string ignored;
  auto st = RawUnary("/achilles.v1.PatientService/NoSuchMethod", "", &ignored);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(ApiTest, UnknownPatientIsNotFound) {
  v1::Evaluation ev;
  EXPECT_EQ(s_.Evaluate("ghost", &ev).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s_.Append("ghost", {Note("e", NowMicros())}).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::DeletePatientRequest del;
  v1::DeletePatientResponse resp;
  del.set_patient_id("ghost");
  EXPECT_EQ(s_.patients->DeletePatient(s_.Ctx().get(), del, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ApiTest, RetryIsIdempotentAndConflictIsAlreadyExists) {
  const int64_t t = NowMicros() - kMicrosPerDay;
  v1::AppendEventsResponse resp;
  ASSERT_TRUE(s_.Append("p1", {Note("e1", t, "a")}, &resp).ok());
  EXPECT_EQ(resp.appended(), 1);
  ASSERT_TRUE(s_.Append("p1", {Note("e1", t, "a")}, &resp).ok());
  EXPECT_EQ(resp.appended(), 0);
  ASSERT_EQ(resp.duplicate_event_ids_size(), 1);
  auto st = s_.Append("p1", {Note("e2", t), Note("e1", t, "changed")});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(st.error_message().find("e1"), std::string::npos);
  EXPECT_EQ(Count("p1"), 1);
}

TEST_F(ApiTest, ClinicsAreSeparateTenants) {
  ASSERT_TRUE(s_.AddPatient("shared", "clinic-a").ok());
  ASSERT_TRUE(
      s_.Append("shared", {Note("e", NowMicros() - 1000)}, nullptr, "clinic-a")
          .ok());
  // Same id, other clinic: not visible.
  EXPECT_EQ(
      s_.Append("shared", {Note("e", NowMicros() - 1000)}, nullptr, "clinic-b")
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
  ExpectInvalid(s_.AddPatient("x", "bad clinic!"), "x-clinic-id");
}

TEST_F(ApiTest, ErasureRemovesEverything) {
  ASSERT_TRUE(s_.Append("p1", {Note("e1", NowMicros() - 1000)}).ok());
  v1::Evaluation ev;
  ASSERT_TRUE(s_.Evaluate("p1", &ev).ok());
  v1::DeletePatientRequest del;
  v1::DeletePatientResponse resp;
  del.set_patient_id("p1");
  ASSERT_TRUE(s_.patients->DeletePatient(s_.Ctx().get(), del, &resp).ok());
  EXPECT_EQ(resp.events_deleted(), 1);
  EXPECT_EQ(resp.evaluations_deleted(), 1);
  v1::GetEvaluationRequest get;
  v1::GetEvaluationResponse got;
  get.set_patient_id("p1");
  get.set_evaluation_id(ev.evaluation_id());
  EXPECT_EQ(s_.decisions->GetEvaluation(s_.Ctx().get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListEventsRequest list;
  v1::ListEventsResponse events;
  list.set_patient_id("p1");
  EXPECT_EQ(s_.patients->ListEvents(s_.Ctx().get(), list, &events).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ApiTest, ListEventsPagesByTimeRange) {
  std::vector<v1::Event> events;
  for (int i = 0; i < 30; ++i) {
    events.push_back(Note("e" + std::to_string(i), Day(i)));
  }
  ASSERT_TRUE(s_.Append("p1", events).ok());
  v1::ListEventsRequest req;
  req.set_patient_id("p1");
  *req.mutable_from() = FromMicros(Day(5));
  *req.mutable_to() = FromMicros(Day(25));
  req.set_page_size(7);
  int total = 0, pages = 0;
  for (;;) {
    v1::ListEventsResponse resp;
    ASSERT_TRUE(s_.patients->ListEvents(s_.Ctx().get(), req, &resp).ok());
    total += resp.events_size();
    ++pages;
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(total, 20);
  EXPECT_EQ(pages, 3);
  req.set_page_token("garbage!!");
  v1::ListEventsResponse resp;
  ExpectInvalid(s_.patients->ListEvents(s_.Ctx().get(), req, &resp),
                "page_token");
  req.clear_page_token();
  req.set_page_size(5000);
  ExpectInvalid(s_.patients->ListEvents(s_.Ctx().get(), req, &resp),
                "page_size");
}

TEST_F(ApiTest, EmptyTimelineGivesADataRequestNotAnError) {
  v1::Evaluation ev;
  ASSERT_TRUE(s_.Evaluate("p1", &ev).ok());
  ASSERT_GE(ev.recommendations_size(), 1);
  EXPECT_EQ(ev.recommendations(0).category(), v1::CATEGORY_DATA_REQUEST);
  EXPECT_EQ(ev.plugins_size(), 4);
}

TEST_F(ApiTest, EvaluateIsDeterministicAndStoredByteForByte) {
  std::vector<v1::Event> events = {
      Finding("f1", Day(0), v1::LOCATION_MIDPORTION), RunEvent("r1", Day(1), 4),
      RunEvent("r2", Day(3), 2)};
  ASSERT_TRUE(s_.Append("p1", events).ok());
  v1::Evaluation a, b;
  ASSERT_TRUE(s_.Evaluate("p1", &a, Day(4)).ok());
  ASSERT_TRUE(s_.Evaluate("p1", &b, Day(4)).ok());
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_FALSE(a.evaluation_id().empty());
  v1::GetEvaluationRequest get;
  v1::GetEvaluationResponse got;
  get.set_patient_id("p1");
  get.set_evaluation_id(a.evaluation_id());
  ASSERT_TRUE(s_.decisions->GetEvaluation(s_.Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.evaluation().SerializeAsString(), a.SerializeAsString());
  // as_of before the runs sees only the finding.
  v1::Evaluation early;
  ASSERT_TRUE(s_.Evaluate("p1", &early, Day(0) + 1).ok());
  EXPECT_EQ(early.event_count(), 1);
  EXPECT_NE(early.evaluation_id(), a.evaluation_id());
  // Future as_of is refused.
  v1::Evaluation future;
  ExpectInvalid(s_.Evaluate("p1", &future, NowMicros() + kMicrosPerDay),
                "as_of");
}

TEST_F(ApiTest, EvaluationsSurviveRestart) {
  ASSERT_TRUE(s_.Append("p1", {RunEvent("r1", Day(1), 7)}).ok());
  v1::Evaluation a;
  ASSERT_TRUE(s_.Evaluate("p1", &a, Day(2)).ok());
  s_.Restart();
  v1::GetEvaluationRequest get;
  v1::GetEvaluationResponse got;
  get.set_patient_id("p1");
  get.set_evaluation_id(a.evaluation_id());
  ASSERT_TRUE(s_.decisions->GetEvaluation(s_.Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.evaluation().SerializeAsString(), a.SerializeAsString());
  v1::Evaluation again;
  ASSERT_TRUE(s_.Evaluate("p1", &again, Day(2)).ok());
  EXPECT_EQ(again.SerializeAsString(), a.SerializeAsString());
}

TEST_F(ApiTest, FeedbackIsValidatedAndStored) {
  ASSERT_TRUE(s_.Append("p1", {RunEvent("r1", Day(1), 7)}).ok());
  v1::Evaluation ev;
  ASSERT_TRUE(s_.Evaluate("p1", &ev, Day(2)).ok());
  ASSERT_GT(ev.recommendations_size(), 0);
  v1::RecordFeedbackRequest req;
  v1::RecordFeedbackResponse resp;
  req.set_patient_id("p1");
  req.set_evaluation_id(ev.evaluation_id());
  req.set_recommendation_id(ev.recommendations(0).id());
  req.set_decision(v1::FEEDBACK_DECISION_OVERRIDDEN);
  req.set_clinician("dr-a");
  ExpectInvalid(s_.decisions->RecordFeedback(s_.Ctx().get(), req, &resp),
                "reason");
  req.set_reason("patient seen in clinic; pain from a blister");
  ASSERT_TRUE(s_.decisions->RecordFeedback(s_.Ctx().get(), req, &resp).ok());
  EXPECT_FALSE(resp.feedback_id().empty());
  req.set_recommendation_id("nope/none");
  EXPECT_EQ(
      s_.decisions->RecordFeedback(s_.Ctx().get(), req, &resp).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST_F(ApiTest, PolicyChangesTheAdviceAndIsRecorded) {
  // Scenario 9: run pain 4 is amber under the default, fine under SIL 5.
  v1::Event run = RunEvent("r1", Day(1), 4);
  run.mutable_run_session()->mutable_response()->set_settle_time_hours(12);
  run.mutable_run_session()->mutable_response()->set_morning_vs_baseline(
      v1::COMPARISON_SAME);
  ASSERT_TRUE(
      s_.Append("p1", {Finding("f1", Day(0), v1::LOCATION_MIDPORTION), run})
          .ok());
  v1::Evaluation before;
  ASSERT_TRUE(s_.Evaluate("p1", &before, Day(2)).ok());
  EXPECT_EQ(before.policy_version(), 0);
  EXPECT_EQ(before.features().pain_zone(), v1::PAIN_ZONE_AMBER);

  v1::SetPolicyRequest set;
  v1::SetPolicyResponse set_resp;
  set.mutable_policy()->set_silbernagel_max_ok(12);
  ExpectInvalid(s_.policies->SetPolicy(s_.Ctx().get(), set, &set_resp),
                "policy.silbernagel_max_ok");
  set.mutable_policy()->set_silbernagel_max_ok(5);
  set.mutable_policy()->set_pain_model(v1::PAIN_MODEL_SILBERNAGEL_5);
  set.set_expected_version(0);
  ASSERT_TRUE(s_.policies->SetPolicy(s_.Ctx().get(), set, &set_resp).ok());
  EXPECT_EQ(set_resp.policy().version(), 1);
  // A stale expected_version is refused.
  EXPECT_EQ(s_.policies->SetPolicy(s_.Ctx().get(), set, &set_resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  v1::Evaluation after;
  ASSERT_TRUE(s_.Evaluate("p1", &after, Day(2)).ok());
  EXPECT_EQ(after.policy_version(), 1);
  EXPECT_EQ(after.features().pain_zone(), v1::PAIN_ZONE_GREEN);
  EXPECT_NE(after.evaluation_id(), before.evaluation_id());
}

TEST_F(ApiTest, PluginsCanBeListedAndDisabledPerClinic) {
  v1::ListPluginsRequest list;
  v1::ListPluginsResponse plugins;
  ASSERT_TRUE(s_.plugins->ListPlugins(s_.Ctx().get(), list, &plugins).ok());
  ASSERT_EQ(plugins.plugins_size(), 4);
  for (const auto& p : plugins.plugins()) {
    EXPECT_EQ(p.state(), v1::PLUGIN_STATE_LOADED);
    EXPECT_TRUE(p.enabled_for_clinic());
  }
  v1::SetPluginEnabledRequest req;
  v1::SetPluginEnabledResponse resp;
  req.set_plugin_id("return_to_run");
  ASSERT_TRUE(
      s_.plugins->DisablePlugin(s_.Ctx("clinic-a").get(), req, &resp).ok());
  req.set_plugin_id("no_such_plugin");
  EXPECT_EQ(s_.plugins->DisablePlugin(s_.Ctx().get(), req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(s_.AddPatient("pa", "clinic-a").ok());
  v1::Evaluation ev_a, ev_default;
  ASSERT_TRUE(s_.Evaluate("pa", &ev_a, 0, "clinic-a").ok());
  ASSERT_TRUE(s_.Evaluate("p1", &ev_default).ok());
  auto status_of = [](const v1::Evaluation& ev, const std::string& id) {
    for (const auto& p : ev.plugins()) {
      if (p.plugin_id() == id) return p.status();
    }
    return v1::PLUGIN_RUN_STATUS_UNSPECIFIED;
  };
  EXPECT_EQ(status_of(ev_a, "return_to_run"), v1::PLUGIN_RUN_STATUS_DISABLED);
  EXPECT_EQ(status_of(ev_default, "return_to_run"), v1::PLUGIN_RUN_STATUS_OK);
}

TEST_F(ApiTest, HotReloadUnderConcurrentEvaluateCalls) {
  namespace fs = std::filesystem;
  ASSERT_TRUE(s_.Append("p1", {Finding("f1", Day(0), v1::LOCATION_MIDPORTION),
                               RunEvent("r1", Day(1), 2)})
                  .ok());
  const std::string plugins = s_.dir().Sub("plugins/");
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, mixed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        v1::Evaluation ev;
        if (!s_.Evaluate("p1", &ev, Day(2)).ok()) {
          ++failed;
          continue;
        }
        ++ok;
        // One evaluation runs on one plugin set: all four bundled plugins
        // or, while return_to_run is removed, the other three.
        bool has_rtr = false;
        for (const auto& run : ev.plugins()) {
          if (run.status() != v1::PLUGIN_RUN_STATUS_OK) ++failed;
          if (run.plugin_id() == "return_to_run") has_rtr = true;
        }
        if (ev.plugins_size() != (has_rtr ? 4 : 3)) ++mixed;
      }
    });
  }
  for (int i = 0; i < 10; ++i) {
    // Remove return_to_run, reload, put it back, reload.
    fs::rename(plugins + "return_to_run.so", s_.dir().Sub("rtr.so"));
    v1::ReloadPluginsRequest req;
    v1::ReloadPluginsResponse resp;
    ASSERT_TRUE(
        s_.plugins->ReloadPlugins(s_.OperatorCtx().get(), req, &resp).ok());
    EXPECT_EQ(resp.removed_size(), 1);
    fs::rename(s_.dir().Sub("rtr.so"), plugins + "return_to_run.so");
    ASSERT_TRUE(
        s_.plugins->ReloadPlugins(s_.OperatorCtx().get(), req, &resp).ok());
    EXPECT_EQ(resp.added_size(), 1);
  }
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(mixed.load(), 0);
}

TEST(StoreServiceTest, CheckpointIsOffByDefaultAndACopyOpens) {
  TestServer off;
  auto stub = v1::StoreService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(off.server()->port()),
                          grpc::InsecureChannelCredentials()));
  v1::CheckpointRequest req;
  v1::CheckpointResponse resp;
  req.set_name("b1");
  EXPECT_EQ(stub->Checkpoint(off.OperatorCtx().get(), req, &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  TempDir backups;
  TestServer on(
      true, [&](server::ServerOptions& o) { o.backup_dir = backups.Sub("b"); });
  ASSERT_TRUE(on.AddPatient("p").ok());
  ASSERT_TRUE(on.Append("p", {Note("e1", Day(1))}).ok());
  stub = v1::StoreService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(on.server()->port()),
                          grpc::InsecureChannelCredentials()));
  req.set_name("bad name");
  EXPECT_EQ(stub->Checkpoint(on.OperatorCtx().get(), req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  req.set_name("nightly-1");
  ASSERT_TRUE(stub->Checkpoint(on.OperatorCtx().get(), req, &resp).ok());
  EXPECT_EQ(stub->Checkpoint(on.OperatorCtx().get(), req, &resp).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  // The checkpoint is a store of its own with the acknowledged data.
  storage::StoreOptions so;
  so.path = backups.Sub("b/nightly-1");
  so.create_if_missing = false;
  auto copy = storage::OpenRocksDbStore(so);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(*(*copy)->CountEvents("default", "p"), 1);
}

TEST_F(ApiTest, RunDurationIsOneTo600Minutes) {
  for (int minutes : {0, -5, 601}) {
    v1::Event run = RunEvent("r" + std::to_string(minutes + 10), Day(1), 2);
    run.mutable_run_session()->set_duration_minutes(minutes);
    ExpectInvalid(s_.Append("p1", {run}),
                  "events[0].run_session.duration_minutes");
  }
  for (int minutes : {1, 600}) {
    v1::Event run = RunEvent("ok" + std::to_string(minutes), Day(1), 2);
    run.mutable_run_session()->set_duration_minutes(minutes);
    EXPECT_TRUE(s_.Append("p1", {run}).ok()) << minutes;
  }
  EXPECT_EQ(Count("p1"), 2);
}

// Every timestamp a request carries is a plausible date with valid nanos;
// year 1 and negative nanos used to pass, and far-off seconds overflowed
// the conversion to microseconds silently.
TEST_F(ApiTest, RequestTimestampsMustBePlausibleDates) {
  google::protobuf::Timestamp year1;
  year1.set_seconds(-62135596800);  // 0001-01-01.
  google::protobuf::Timestamp negative_nanos = FromMicros(Day(1));
  negative_nanos.set_nanos(-1);
  google::protobuf::Timestamp overflow;
  overflow.set_seconds(int64_t{1} << 62);

  for (const auto& bad : {year1, negative_nanos, overflow}) {
    v1::EvaluateRequest eval;
    v1::EvaluateResponse eval_resp;
    eval.set_patient_id("p1");
    *eval.mutable_as_of() = bad;
    ExpectInvalid(s_.decisions->Evaluate(s_.Ctx().get(), eval, &eval_resp),
                  "as_of");

    v1::ListEventsRequest list;
    v1::ListEventsResponse list_resp;
    list.set_patient_id("p1");
    *list.mutable_from() = bad;
    ExpectInvalid(s_.patients->ListEvents(s_.Ctx().get(), list, &list_resp),
                  "from");
    list.clear_from();
    *list.mutable_to() = bad;
    ExpectInvalid(s_.patients->ListEvents(s_.Ctx().get(), list, &list_resp),
                  "to");

    auto event = Note("n", Day(1));
    *event.mutable_occurred_at() = bad;
    ExpectInvalid(s_.Append("p1", {event}), "events[0].occurred_at");

    for (bool since : {false, true}) {
      v1::ReEvaluateRequest run;
      *(since ? run.mutable_events_since() : run.mutable_as_of()) = bad;
      run.set_dry_run(true);
      auto ctx = s_.Ctx();
      auto reader = s_.caseload->ReEvaluate(ctx.get(), run);
      v1::ReEvaluateEvent e;
      while (reader->Read(&e)) {
      }
      ExpectInvalid(reader->Finish(), since ? "events_since" : "as_of");
    }
  }
  // Nothing was evaluated or stored.
  v1::GetPatientRequest get;
  v1::GetPatientResponse got;
  get.set_patient_id("p1");
  ASSERT_TRUE(s_.patients->GetPatient(s_.Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.event_count(), 0);
}

// A page token continues the query that produced it, and nothing else: a
// made-up one (any 8 bytes of base64 used to be taken as a position, and
// to override `from`) or one from another query is refused.
TEST_F(ApiTest, PageTokensCannotBeForgedOrReused) {
  ASSERT_TRUE(s_.AddPatient("p2").ok());
  std::vector<v1::Event> events;
  for (int i = 0; i < 20; ++i) {
    events.push_back(Note("e" + std::to_string(i), Day(i)));
  }
  ASSERT_TRUE(s_.Append("p1", events).ok());
  ASSERT_TRUE(s_.Append("p2", events).ok());
  v1::ListEventsRequest req;
  req.set_patient_id("p1");
  *req.mutable_from() = FromMicros(Day(10));
  req.set_page_size(3);
  v1::ListEventsResponse first;
  ASSERT_TRUE(s_.patients->ListEvents(s_.Ctx().get(), req, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  const std::string token = first.next_page_token();

  // A forged position: 8 bytes (a time) that would start before `from`.
  std::string forged;
  absl::WebSafeBase64Escape(std::string(8, '\0'), &forged);
  v1::ListEventsResponse resp;
  req.set_page_token(forged);
  ExpectInvalid(s_.patients->ListEvents(s_.Ctx().get(), req, &resp),
                "page_token");
  // A real token with its position edited.
  std::string edited = token;
  edited[0] = edited[0] == 'A' ? 'B' : 'A';
  req.set_page_token(edited);
  ExpectInvalid(s_.patients->ListEvents(s_.Ctx().get(), req, &resp),
                "page_token");
  // The real token with another `from`, or for another patient.
  req.set_page_token(token);
  *req.mutable_from() = FromMicros(Day(0));
  ExpectInvalid(s_.patients->ListEvents(s_.Ctx().get(), req, &resp),
                "page_token");
  *req.mutable_from() = FromMicros(Day(10));
  req.set_patient_id("p2");
  ExpectInvalid(s_.patients->ListEvents(s_.Ctx().get(), req, &resp),
                "page_token");
  // Unchanged, it pages on from where the first page ended.
  req.set_patient_id("p1");
  ASSERT_TRUE(s_.patients->ListEvents(s_.Ctx().get(), req, &resp).ok());
  ASSERT_EQ(resp.events_size(), 3);
  EXPECT_EQ(resp.events(0).event_id(), "e13");

  // Patient and worklist pages are sealed the same way.
  v1::ListPatientsRequest patients;
  v1::ListPatientsResponse patients_resp;
  std::string forged_patient;
  absl::WebSafeBase64Escape(std::string("default\0p", 9), &forged_patient);
  patients.set_page_token(forged_patient);
  ExpectInvalid(
      s_.patients->ListPatients(s_.Ctx().get(), patients, &patients_resp),
      "page_token");
  patients.clear_page_token();
  patients.set_page_size(1);
  ASSERT_TRUE(
      s_.patients->ListPatients(s_.Ctx().get(), patients, &patients_resp).ok());
  patients.set_page_token(patients_resp.next_page_token());
  ASSERT_TRUE(
      s_.patients->ListPatients(s_.Ctx().get(), patients, &patients_resp).ok());
  ASSERT_EQ(patients_resp.patients_size(), 1);
  EXPECT_EQ(patients_resp.patients(0).patient_id(), "p2");
  // Another clinic cannot use this clinic's token.
  EXPECT_EQ(
      s_.patients
          ->ListPatients(s_.Ctx("clinic-b").get(), patients, &patients_resp)
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);

  v1::WorklistRequest worklist;
  v1::WorklistResponse worklist_resp;
  worklist.set_page_token("1");
  ExpectInvalid(s_.caseload->Worklist(s_.Ctx().get(), worklist, &worklist_resp),
                "page_token");
}

// Two x-clinic-id headers could make two parts of the stack read different
// clinics; the call is refused before anything runs.
TEST_F(ApiTest, DuplicateClinicHeaderIsRefused) {
  auto ctx = s_.Ctx("default");
  ctx->AddMetadata("x-clinic-id", "default");
  v1::GetPatientRequest get;
  v1::GetPatientResponse got;
  get.set_patient_id("p1");
  ExpectInvalid(s_.patients->GetPatient(ctx.get(), get, &got), "x-clinic-id");
  auto other = s_.Ctx("default");
  other->AddMetadata("x-clinic-id", "clinic-b");
  EXPECT_NE(s_.patients->GetPatient(other.get(), get, &got).error_code(),
            grpc::StatusCode::OK);
}

TEST_F(ApiTest, HealthCheckServes) {
  // grpc.health.v1.HealthCheckRequest{} is empty; the response's field 1 is
  // the status enum, SERVING = 1.
  std::string response;
  auto st = RawUnary("/grpc.health.v1.Health/Check", "", &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(response, std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace achilles::testing
