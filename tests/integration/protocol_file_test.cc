// Protocol files through a real server over loopback gRPC, in both
// isolation modes: a file dropped into the plugin directory loads on
// ReloadPlugins, is listed with its digest, answers in Evaluate, can be
// switched off per clinic, reports its runtime faults as a FAILED plugin
// run, and a broken file is refused with file:line:column while the server
// keeps serving.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "achilles/v1/admin_service.grpc.pb.h"
#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "common/digest.h"
#include "common/time_util.h"
#include "tests/common/events.h"
#include "tests/common/server_process.h"
#include "tests/common/temp_dir.h"
#include "tests/integration/tokens.h"

namespace achilles::testing {
namespace {

namespace fs = std::filesystem;

const std::string kExamples = EXAMPLES_DIR;
const std::string kBroken = BROKEN_PROTOCOL;

v1::Event Visa(const std::string& id, int64_t at_us, int score) {
  v1::Event e = MakeEvent(id, at_us);
  e.mutable_questionnaire()->set_kind(v1::QUESTIONNAIRE_VISA_A);
  e.mutable_questionnaire()->set_total_score(score);
  return e;
}

class ProtocolServerTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    fs::create_directory(dir_.Sub("plugins"));
    server_ = std::make_unique<ServerProcess>(
        dir_.Sub("data"), dir_.Sub("port"),
        std::vector<std::string>{
            "--plugin_dir=" + dir_.Sub("plugins"),
            std::string("--plugin_isolation=") + GetParam()});
    const int port = server_->WaitForPort();
    ASSERT_GT(port, 0) << "server did not start";
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    operator_ = ReadOperatorToken(dir_.Sub("data"));
    clinic_ = IssueClinicToken(channel_, operator_);
    plugins_ = v1::PluginService::NewStub(channel_);
    decisions_ = v1::DecisionService::NewStub(channel_);
    auto patients = v1::PatientService::NewStub(channel_);
    grpc::ClientContext up;
    Authorize(&up, clinic_);
    v1::UpsertPatientRequest req;
    v1::UpsertPatientResponse resp;
    req.mutable_patient()->set_patient_id("p");
    ASSERT_TRUE(patients->UpsertPatient(&up, req, &resp).ok());
    grpc::ClientContext add;
    Authorize(&add, clinic_);
    v1::AppendEventsRequest events;
    v1::AppendEventsResponse appended;
    events.set_patient_id("p");
    *events.add_events() = Visa("v1", Day(0), 50);
    *events.add_events() = Visa("v2", Day(49), 55);
    auto st = patients->AppendEvents(&add, events, &appended);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  void TearDown() override {
    plugins_.reset();
    decisions_.reset();
    channel_.reset();
    if (server_) server_->Signal(SIGTERM);
  }

  void Drop(const std::string& from, const std::string& name) {
    fs::copy_file(from, dir_.Sub("plugins/" + name),
                  fs::copy_options::overwrite_existing);
  }
  void DropText(const std::string& text, const std::string& name) {
    std::ofstream(dir_.Sub("plugins/" + name)) << text;
  }

  void Reload() {
    grpc::ClientContext ctx;
    Authorize(&ctx, operator_);
    v1::ReloadPluginsRequest req;
    v1::ReloadPluginsResponse resp;
    auto st = plugins_->ReloadPlugins(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  v1::PluginInfo Listed(const std::string& file) {
    grpc::ClientContext ctx;
    Authorize(&ctx, clinic_);
    v1::ListPluginsRequest req;
    v1::ListPluginsResponse resp;
    auto st = plugins_->ListPlugins(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    for (const auto& p : resp.plugins()) {
      if (fs::path(p.file()).filename() == file) return p;
    }
    ADD_FAILURE() << file << " is not listed";
    return {};
  }

  v1::Evaluation Evaluate() {
    grpc::ClientContext ctx;
    Authorize(&ctx, clinic_);
    v1::EvaluateRequest req;
    v1::EvaluateResponse resp;
    req.set_patient_id("p");
    *req.mutable_as_of() = FromMicros(Day(49.5));
    req.set_dry_run(true);
    auto st = decisions_->Evaluate(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.evaluation();
  }

  void Switch(bool on) {
    grpc::ClientContext ctx;
    Authorize(&ctx, clinic_);
    v1::SetPluginEnabledRequest req;
    v1::SetPluginEnabledResponse resp;
    req.set_plugin_id("clinic_visa_review");
    req.set_changed_by("test");
    auto st = on ? plugins_->EnablePlugin(&ctx, req, &resp)
                 : plugins_->DisablePlugin(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  static bool Recommends(const v1::Evaluation& ev, const std::string& id) {
    for (const auto& r : ev.recommendations()) {
      if (r.id() == id) return true;
    }
    return false;
  }
  static v1::PluginRun Run(const v1::Evaluation& ev, const std::string& id) {
    for (const auto& run : ev.plugins()) {
      if (run.plugin_id() == id) return run;
    }
    ADD_FAILURE() << id << " did not run";
    return {};
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PluginService::Stub> plugins_;
  std::unique_ptr<v1::DecisionService::Stub> decisions_;
  std::string operator_, clinic_;
};

TEST_P(ProtocolServerTest, DroppedFileLoadsListsAndAdvises) {
  const std::string visa = kExamples + "/visa_a_review.protocol.yaml";
  Drop(visa, "visa_a_review.protocol.yaml");
  Reload();
  const v1::PluginInfo info = Listed("visa_a_review.protocol.yaml");
  EXPECT_EQ(info.state(), v1::PLUGIN_STATE_LOADED) << info.reason();
  EXPECT_EQ(info.plugin_id(), "clinic_visa_review");
  EXPECT_EQ(info.abi_version(), "protocol-1");
  auto digest = Sha256FileHex(visa);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(info.sha256(), *digest);

  const v1::Evaluation ev = Evaluate();
  EXPECT_TRUE(Recommends(ev, "clinic_visa_review/review_plan"));
  const v1::PluginRun run = Run(ev, "clinic_visa_review");
  EXPECT_EQ(run.status(), v1::PLUGIN_RUN_STATUS_OK) << run.error();
  EXPECT_EQ(run.sha256(), *digest);

  // Per-clinic switch, as for a .so.
  Switch(false);
  const v1::Evaluation off = Evaluate();
  EXPECT_FALSE(Recommends(off, "clinic_visa_review/review_plan"));
  EXPECT_EQ(Run(off, "clinic_visa_review").status(),
            v1::PLUGIN_RUN_STATUS_DISABLED);
  Switch(true);
  EXPECT_TRUE(Recommends(Evaluate(), "clinic_visa_review/review_plan"));
}

TEST_P(ProtocolServerTest, BrokenFileIsRefusedWithLineAndColumn) {
  Drop(kExamples + "/visa_a_review.protocol.yaml",
       "visa_a_review.protocol.yaml");
  Drop(kBroken, "broken.protocol.yaml");
  Reload();
  const v1::PluginInfo broken = Listed("broken.protocol.yaml");
  EXPECT_EQ(broken.state(), v1::PLUGIN_STATE_REJECTED);
  EXPECT_EQ(broken.reason().rfind("broken.protocol.yaml:12:16: ", 0), 0u)
      << broken.reason();
  EXPECT_NE(broken.reason().find("'visa_a_lastest' is not a field"),
            std::string::npos)
      << broken.reason();
  // Still serving, with the good file.
  EXPECT_TRUE(Recommends(Evaluate(), "clinic_visa_review/review_plan"));
  ASSERT_TRUE(server_->Alive());
}

TEST_P(ProtocolServerTest, RuntimeFaultIsAFailedRunNotAnOutage) {
  std::ifstream in(kExamples + "/visa_a_review.protocol.yaml");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // The gain never finishes computing: the instruction budget stops it.
  const std::string from = "gain: latest.value - first.value";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(),
               "gain: \"(function() while true do end end)()\"");
  DropText(text, "spinning.protocol.yaml");
  Reload();
  EXPECT_EQ(Listed("spinning.protocol.yaml").state(), v1::PLUGIN_STATE_LOADED);
  const v1::Evaluation ev = Evaluate();
  const v1::PluginRun run = Run(ev, "clinic_visa_review");
  EXPECT_EQ(run.status(), v1::PLUGIN_RUN_STATUS_FAILED);
  EXPECT_NE(run.error().find("instruction budget"), std::string::npos)
      << run.error();
  EXPECT_EQ(ev.confidence_level(), v1::CONFIDENCE_LEVEL_LOW);
}

INSTANTIATE_TEST_SUITE_P(Modes, ProtocolServerTest,
                         ::testing::Values("inprocess", "process"));

}  // namespace
}  // namespace achilles::testing
