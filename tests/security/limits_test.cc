// Bounds on what a caller can make the server store or do, each a defect
// found under attack: unknown fields stored verbatim, unbounded policies,
// two servers on one port, plaintext off loopback, and stored evaluations
// overwritten under the same id.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "achilles/v1/admin_service.grpc.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "tests/common/events.h"
#include "tests/integration/test_server.h"

namespace achilles::testing {
namespace {

TEST(LimitsTest, UnknownFieldsAreRefusedAndNothingIsStored) {
  TestServer s;
  ASSERT_TRUE(s.AddPatient("p").ok());
  v1::AppendEventsRequest req;
  req.set_patient_id("p");
  v1::Event* e = req.add_events();
  *e = Note("n1", NowMicros() - kMicrosPerHour, "short note");
  // 8 MB under a field number this server does not know: before the fix
  // it passed the 4 KB note limit and was stored verbatim.
  e->GetReflection()->MutableUnknownFields(e)->AddLengthDelimited(
      999, std::string(1 << 20, 'x'));
  v1::AppendEventsResponse resp;
  auto st = s.patients->AppendEvents(s.Ctx().get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("events[0]: unknown field number 999"),
            std::string::npos)
      << st.error_message();
  v1::GetPatientRequest get;
  v1::GetPatientResponse got;
  get.set_patient_id("p");
  ASSERT_TRUE(s.patients->GetPatient(s.Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.event_count(), 0);
  // The same on a patient and a policy.
  v1::UpsertPatientRequest up;
  up.mutable_patient()->set_patient_id("q");
  up.mutable_patient()
      ->GetReflection()
      ->MutableUnknownFields(up.mutable_patient())
      ->AddVarint(77, 1);
  v1::UpsertPatientResponse up_resp;
  EXPECT_EQ(s.patients->UpsertPatient(s.Ctx().get(), up, &up_resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::SetPolicyRequest set;
  set.mutable_policy()
      ->GetReflection()
      ->MutableUnknownFields(set.mutable_policy())
      ->AddLengthDelimited(500, "x");
  v1::SetPolicyResponse set_resp;
  st = s.policies->SetPolicy(s.Ctx().get(), set, &set_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("policy: unknown field"), std::string::npos)
      << st.error_message();
}

TEST(LimitsTest, PoliciesAreBoundedInSizeAndContent) {
  TestServer s;
  v1::SetPolicyRequest set;
  v1::SetPolicyResponse resp;
  for (int i = 0; i < 100000; ++i) {
    set.mutable_policy()->add_disabled_plugins("p" + std::to_string(i));
  }
  auto st = s.policies->SetPolicy(s.Ctx().get(), set, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("policy.disabled_plugins"),
            std::string::npos);
  set.mutable_policy()->clear_disabled_plugins();
  set.mutable_policy()->add_disabled_plugins(std::string("a\0b", 3));
  EXPECT_EQ(s.policies->SetPolicy(s.Ctx().get(), set, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  set.mutable_policy()->set_disabled_plugins(0, "../../etc/passwd");
  EXPECT_EQ(s.policies->SetPolicy(s.Ctx().get(), set, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // changed_by through Enable/DisablePlugin was unbounded (1 MB).
  v1::SetPluginEnabledRequest en;
  en.set_plugin_id("return_to_run");
  en.set_changed_by(std::string(1 << 20, 'x'));
  v1::SetPluginEnabledResponse en_resp;
  st = s.plugins->DisablePlugin(s.Ctx().get(), en, &en_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("changed_by"), std::string::npos);
  en.set_changed_by("dr\nsmith");
  EXPECT_EQ(s.plugins->DisablePlugin(s.Ctx().get(), en, &en_resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(LimitsTest, ASecondServerCannotShareThePort) {
  TestServer first;
  const int port = first.server()->port();
  TempDir other;
  server::ServerOptions o;
  o.listen_address = "127.0.0.1:" + std::to_string(port);
  o.data_dir = other.Sub("data");
  auto second = server::Server::Start(o);
  EXPECT_FALSE(second.ok()) << "two servers on port " << port;
  if (!second.ok()) {
    EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  }
}

TEST(LimitsTest, PlaintextOffLoopbackNeedsToBeAskedFor) {
  TempDir dir;
  server::ServerOptions o;
  o.listen_address = "0.0.0.0:0";
  o.data_dir = dir.Sub("data");
  auto refused = server::Server::Start(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_NE(refused.status().message().find("not loopback"), std::string::npos);
  o.insecure_plaintext = true;
  auto allowed = server::Server::Start(o);
  EXPECT_TRUE(allowed.ok()) << allowed.status();
}

TEST(LimitsTest, ANewServerWritesAnOperatorTokenOnlyOnce) {
  TestServer s;
  const std::string path = s.options().data_dir + "/operator.token";
  std::ifstream in(path);
  std::string token;
  in >> token;
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(std::filesystem::status(path).permissions() &
                (std::filesystem::perms::group_all |
                 std::filesystem::perms::others_all),
            std::filesystem::perms::none);
  auto ctx = s.Bare();
  ctx->AddMetadata("authorization", "Bearer " + token);
  v1::ListTokensResponse list;
  ASSERT_TRUE(
      s.credentials->ListTokens(ctx.get(), v1::ListTokensRequest(), &list)
          .ok());
  std::filesystem::remove(path);
  s.Restart();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(s.server()->bootstrap_token_path().empty());
}

// Before, the id hashed only the inputs: re-evaluating while a plugin
// failed replaced the stored evaluation, and feedback on the advice the
// clinician had seen got NOT_FOUND.
TEST(LimitsTest, AStoredEvaluationIsNeverReplaced) {
  TempDir flags;
  const std::string flag = flags.Sub("fail");
  setenv("ACHILLES_TEST_FAIL_FLAG", flag.c_str(), 1);
  TestServer s(false, [](server::ServerOptions& o) {
    std::filesystem::copy_file(std::string(TEST_PLUGIN_DIR) + "/flaky.so",
                               o.plugin_dir + "/flaky.so");
  });
  ASSERT_TRUE(s.AddPatient("p").ok());
  ASSERT_TRUE(
      s.Append("p", {RunEvent("r1", NowMicros() - kMicrosPerDay, 7)}).ok());
  const int64_t as_of = NowMicros();
  v1::Evaluation answered, failed;
  ASSERT_TRUE(s.Evaluate("p", &answered, as_of).ok());
  std::ofstream(flag) << "x";
  ASSERT_TRUE(s.Evaluate("p", &failed, as_of).ok());
  ASSERT_EQ(failed.plugins(0).status(), v1::PLUGIN_RUN_STATUS_FAILED);
  EXPECT_EQ(answered.input_fingerprint(), failed.input_fingerprint());
  EXPECT_NE(answered.evaluation_id(), failed.evaluation_id());
  // The first is still there, and feedback on it still lands.
  v1::GetEvaluationRequest get;
  v1::GetEvaluationResponse got;
  get.set_patient_id("p");
  get.set_evaluation_id(answered.evaluation_id());
  ASSERT_TRUE(s.decisions->GetEvaluation(s.Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.evaluation().plugins(0).status(), v1::PLUGIN_RUN_STATUS_OK);
  v1::RecordFeedbackRequest fb;
  fb.set_patient_id("p");
  fb.set_evaluation_id(answered.evaluation_id());
  fb.set_recommendation_id(answered.recommendations(0).id());
  fb.set_decision(v1::FEEDBACK_DECISION_ACCEPTED);
  fb.set_clinician("dr x");
  v1::RecordFeedbackResponse fb_resp;
  EXPECT_TRUE(s.decisions->RecordFeedback(s.Ctx().get(), fb, &fb_resp).ok());
  unsetenv("ACHILLES_TEST_FAIL_FLAG");
}

TEST(LimitsTest, BackupNamesCannotEscapeTheBackupDir) {
  TempDir backups;
  TestServer s(
      true, [&](server::ServerOptions& o) { o.backup_dir = backups.Sub("b"); });
  v1::CheckpointRequest req;
  v1::CheckpointResponse resp;
  for (const char* name : {".", "..", "../x", "a/b"}) {
    req.set_name(name);
    EXPECT_EQ(
        s.store->Checkpoint(s.OperatorCtx().get(), req, &resp).error_code(),
        grpc::StatusCode::INVALID_ARGUMENT)
        << name;
  }
}

TEST(LimitsTest, ClinicRateLimitAnswersResourceExhausted) {
  TestServer s(true, [](server::ServerOptions& o) {
    o.clinic_requests_per_second = 1;
    o.clinic_burst = 5;
  });
  v1::ListPatientsRequest req;
  v1::ListPatientsResponse resp;
  int ok = 0, limited = 0;
  for (int i = 0; i < 20; ++i) {
    auto st = s.patients->ListPatients(s.Ctx("a").get(), req, &resp);
    if (st.ok()) ++ok;
    if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++limited;
  }
  EXPECT_LE(ok, 6);
  EXPECT_GE(limited, 14);
  // Another clinic has its own budget.
  EXPECT_TRUE(s.patients->ListPatients(s.Ctx("b").get(), req, &resp).ok());
}

// Blocking work runs on a bounded pool. With one thread and a queue of one,
// a call stuck in a plugin holds the thread, one more waits, and the rest
// are refused at once with RESOURCE_EXHAUSTED instead of piling up; Ping,
// which does no blocking work, is still answered; and once the stuck call
// ends every call is served again.
TEST(LimitsTest, AFullRequestQueueRefusesAtOnceAndRecovers) {
  TestServer s(false, [](server::ServerOptions& o) {
    std::filesystem::copy_file(std::string(TEST_PLUGIN_DIR) + "/hanging.so",
                               o.plugin_dir + "/hanging.so");
    o.plugin_timeout = absl::Milliseconds(1500);
    o.request_threads = 1;
    o.request_queue = 1;
  });
  ASSERT_TRUE(s.AddPatient("p").ok());
  constexpr int kCalls = 6;
  std::vector<grpc::Status> results(kCalls);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&s, &results, i] {
      v1::Evaluation ev;
      results[i] = s.Evaluate("p", &ev, NowMicros());
    });
  }
  v1::PingResponse pong;
  EXPECT_TRUE(s.decisions->Ping(s.Ctx().get(), v1::PingRequest(), &pong).ok());
  for (auto& t : callers) t.join();
  int ok = 0, busy = 0;
  for (const auto& st : results) {
    if (st.ok()) ++ok;
    if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++busy;
      EXPECT_NE(st.error_message().find("server busy"), std::string::npos)
          << st.error_message();
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
  EXPECT_EQ(ok + busy, kCalls);
  v1::Evaluation after;
  EXPECT_TRUE(s.Evaluate("p", &after, NowMicros()).ok());
}

}  // namespace
}  // namespace achilles::testing
