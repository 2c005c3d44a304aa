// An in-process achilles-cds server for integration tests: real gRPC on a
// loopback port picked by the kernel, a real RocksDB in a temp dir, and the
// bundled plugins loaded with dlopen from a private copy of their directory.
#ifndef ACHILLES_TESTS_INTEGRATION_TEST_SERVER_H_
#define ACHILLES_TESTS_INTEGRATION_TEST_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "achilles/v1/admin_service.grpc.pb.h"
#include "achilles/v1/caseload_service.grpc.pb.h"
#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "achilles/v1/security_service.grpc.pb.h"
#include "common/time_util.h"
#include "services/server/server.h"
#include "services/validation/validation.h"
#include "tests/common/temp_dir.h"

namespace achilles::testing {

class TestServer {
 public:
  explicit TestServer(
      bool with_plugins = true,
      const std::function<void(server::ServerOptions&)>& tweak = nullptr) {
    std::filesystem::create_directory(dir_.Sub("plugins"));
    if (with_plugins) {
      for (const auto& e :
           std::filesystem::directory_iterator(BUNDLED_PLUGIN_DIR)) {
        std::filesystem::copy_file(
            e.path(), dir_.Sub("plugins/") + e.path().filename().string());
      }
    }
    options_.listen_address = "127.0.0.1:0";
    options_.data_dir = dir_.Sub("data");
    options_.plugin_dir = dir_.Sub("plugins");
    // Tests seed thousands of calls; the rate limit has tests of its own.
    options_.clinic_requests_per_second = 0;
    // Restart() should not wait out a drain nobody is watching.
    options_.shutdown_drain = absl::ZeroDuration();
    if (tweak) tweak(options_);
    Start();
  }

  void Start() {
    auto server = server::Server::Start(options_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    patients = v1::PatientService::NewStub(channel_);
    decisions = v1::DecisionService::NewStub(channel_);
    plugins = v1::PluginService::NewStub(channel_);
    policies = v1::PolicyService::NewStub(channel_);
    caseload = v1::CaseloadService::NewStub(channel_);
    store = v1::StoreService::NewStub(channel_);
    credentials = v1::CredentialService::NewStub(channel_);
    audit = v1::AuditService::NewStub(channel_);
  }

  void Restart() {
    server_->Shutdown();
    server_.reset();
    Start();
  }

  // A token issued in process (tests are not about the issuing RPC), cached
  // per clinic and role set; it survives Restart() with the data dir.
  std::string Token(const std::string& clinic,
                    const std::vector<v1::Role>& roles) {
    std::string key = clinic;
    for (auto r : roles) key += "/" + std::to_string(r);
    auto it = tokens_.find(key);
    if (it != tokens_.end()) return it->second;
    v1::IssueTokenRequest req;
    req.set_subject("test " + key);
    req.set_clinic_id(clinic);
    for (auto r : roles) req.add_roles(r);
    auto issued = server_->backend()->gate->credentials()->Issue(req, "test",
                                                                 NowMicros());
    EXPECT_TRUE(issued.ok()) << issued.status();
    return tokens_[key] = issued.ok() ? issued->token() : "";
  }

  // A call as the clinic's EHR, clinician and administrator together (the
  // clinic from the token; "" = "default"). An invalid clinic id is sent
  // as the x-clinic-id header of the default clinic's token, for tests of
  // that header.
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& clinic = "") {
    const bool valid =
        clinic.empty() || validation::ValidateId("clinic", clinic).ok();
    auto ctx = Bare();
    ctx->AddMetadata(
        "authorization",
        "Bearer " +
            Token(valid && !clinic.empty() ? clinic : "default",
                  {v1::ROLE_EHR, v1::ROLE_CLINICIAN, v1::ROLE_CLINIC_ADMIN}));
    if (!clinic.empty()) ctx->AddMetadata("x-clinic-id", clinic);
    return ctx;
  }

  // A call as the server's operator (plugin reload, backups, audit).
  std::unique_ptr<grpc::ClientContext> OperatorCtx() {
    auto ctx = Bare();
    ctx->AddMetadata("authorization",
                     "Bearer " + Token("", {v1::ROLE_OPERATOR}));
    return ctx;
  }

  // No credentials at all.
  std::unique_ptr<grpc::ClientContext> Bare() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(30));
    return ctx;
  }

  grpc::Status AddPatient(const std::string& id,
                          const std::string& clinic = "") {
    v1::UpsertPatientRequest req;
    v1::UpsertPatientResponse resp;
    req.mutable_patient()->set_patient_id(id);
    return patients->UpsertPatient(Ctx(clinic).get(), req, &resp);
  }

  grpc::Status Append(const std::string& patient,
                      const std::vector<v1::Event>& events,
                      v1::AppendEventsResponse* resp = nullptr,
                      const std::string& clinic = "") {
    v1::AppendEventsRequest req;
    v1::AppendEventsResponse local;
    req.set_patient_id(patient);
    for (const auto& e : events) *req.add_events() = e;
    return patients->AppendEvents(Ctx(clinic).get(), req, resp ? resp : &local);
  }

  grpc::Status Evaluate(const std::string& patient, v1::Evaluation* out,
                        int64_t as_of_us = 0, const std::string& clinic = "") {
    v1::EvaluateRequest req;
    v1::EvaluateResponse resp;
    req.set_patient_id(patient);
    if (as_of_us != 0) *req.mutable_as_of() = FromMicros(as_of_us);
    auto st = decisions->Evaluate(Ctx(clinic).get(), req, &resp);
    if (out) *out = resp.evaluation();
    return st;
  }

  server::Server* server() { return server_.get(); }
  const TempDir& dir() const { return dir_; }
  server::ServerOptions& options() { return options_; }

  std::unique_ptr<v1::PatientService::Stub> patients;
  std::unique_ptr<v1::DecisionService::Stub> decisions;
  std::unique_ptr<v1::PluginService::Stub> plugins;
  std::unique_ptr<v1::PolicyService::Stub> policies;
  std::unique_ptr<v1::CaseloadService::Stub> caseload;
  std::unique_ptr<v1::StoreService::Stub> store;
  std::unique_ptr<v1::CredentialService::Stub> credentials;
  std::unique_ptr<v1::AuditService::Stub> audit;
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

 private:
  std::map<std::string, std::string> tokens_;
  TempDir dir_;
  server::ServerOptions options_;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_INTEGRATION_TEST_SERVER_H_
