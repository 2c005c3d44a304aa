// An in-process achilles-cds server for integration tests: real gRPC on a
// loopback port picked by the kernel, a real RocksDB in a temp dir, and the
// bundled plugins loaded with dlopen from a private copy of their directory.
#ifndef ACHILLES_TESTS_INTEGRATION_TEST_SERVER_H_
#define ACHILLES_TESTS_INTEGRATION_TEST_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "achilles/v1/admin_service.grpc.pb.h"
#include "achilles/v1/caseload_service.grpc.pb.h"
#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "common/time_util.h"
#include "services/server/server.h"
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
  }

  void Restart() {
    server_->Shutdown();
    server_.reset();
    Start();
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& clinic = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!clinic.empty()) ctx->AddMetadata("x-clinic-id", clinic);
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

 private:
  TempDir dir_;
  server::ServerOptions options_;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_INTEGRATION_TEST_SERVER_H_
