// gRPC service implementations of the public API (proto/achilles/v1). Thin
// handlers: request -> validation -> engine / store / plugin host -> status.
//
// Every handler takes the clinic (tenant) from the `x-clinic-id` metadata
// ("default" when absent) until authentication exists, validates every field
// (INVALID_ARGUMENT naming the field), and maps absl::Status codes one to one
// onto gRPC codes.
//
// The services use gRPC's callback API; handlers run on gRPC's thread pool
// and complete inline. They hold no state of their own beyond the shared
// Backend, so they are safe under any concurrency the store and engine are.
#ifndef ACHILLES_SERVICES_API_API_H_
#define ACHILLES_SERVICES_API_API_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <memory>
#include <string>

#include "achilles/v1/admin_service.grpc.pb.h"
#include "achilles/v1/caseload_service.grpc.pb.h"
#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "plugins/host/plugin_host.h"
#include "services/engine/engine.h"
#include "storage/timeline_store.h"

namespace achilles::api {

// What the services share. Not owned.
struct Backend {
  storage::TimelineStore* store = nullptr;
  plugins::PluginHost* host = nullptr;
  engine::Engine* engine = nullptr;
  // Interactive Evaluate calls in flight; caseload workers yield to them.
  std::atomic<int> interactive_in_flight{0};
};

// Clinic id from the x-clinic-id metadata, or "default". INVALID_ARGUMENT
// when the value is not a valid id.
absl::StatusOr<std::string> ClinicFromContext(
    const grpc::CallbackServerContext* context);
// The clinic, after checking that `patient_id` is a valid id (an
// INVALID_ARGUMENT naming "patient_id" otherwise).
absl::StatusOr<std::string> ClinicForPatient(
    const grpc::CallbackServerContext* context, const std::string& patient_id);
grpc::Status ToGrpc(const absl::Status& status);

// Runs `fn` (returning absl::Status) inline and finishes the call with it.
template <typename Fn>
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* ctx,
                                     Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(fn()));
  return reactor;
}

class PatientServiceImpl final
    : public achilles::v1::PatientService::CallbackService {
 public:
  explicit PatientServiceImpl(Backend* backend) : b_(backend) {}
  grpc::ServerUnaryReactor* UpsertPatient(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::UpsertPatientRequest* req,
      achilles::v1::UpsertPatientResponse* resp) override;
  grpc::ServerUnaryReactor* GetPatient(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::GetPatientRequest* req,
      achilles::v1::GetPatientResponse* resp) override;
  grpc::ServerUnaryReactor* DeletePatient(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::DeletePatientRequest* req,
      achilles::v1::DeletePatientResponse* resp) override;
  grpc::ServerUnaryReactor* AppendEvents(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::AppendEventsRequest* req,
      achilles::v1::AppendEventsResponse* resp) override;
  grpc::ServerUnaryReactor* ListEvents(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::ListEventsRequest* req,
      achilles::v1::ListEventsResponse* resp) override;
  grpc::ServerUnaryReactor* ListPatients(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::ListPatientsRequest* req,
      achilles::v1::ListPatientsResponse* resp) override;

 private:
  Backend* b_;
};

class DecisionServiceImpl final
    : public achilles::v1::DecisionService::CallbackService {
 public:
  explicit DecisionServiceImpl(Backend* backend) : b_(backend) {}
  grpc::ServerUnaryReactor* Evaluate(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::EvaluateRequest* req,
      achilles::v1::EvaluateResponse* resp) override;
  grpc::ServerUnaryReactor* GetEvaluation(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::GetEvaluationRequest* req,
      achilles::v1::GetEvaluationResponse* resp) override;
  grpc::ServerUnaryReactor* RecordFeedback(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::RecordFeedbackRequest* req,
      achilles::v1::RecordFeedbackResponse* resp) override;
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* ctx,
                                 const achilles::v1::PingRequest* req,
                                 achilles::v1::PingResponse* resp) override;

 private:
  Backend* b_;
};

class PluginServiceImpl final
    : public achilles::v1::PluginService::CallbackService {
 public:
  explicit PluginServiceImpl(Backend* backend) : b_(backend) {}
  grpc::ServerUnaryReactor* ListPlugins(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::ListPluginsRequest* req,
      achilles::v1::ListPluginsResponse* resp) override;
  grpc::ServerUnaryReactor* ReloadPlugins(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::ReloadPluginsRequest* req,
      achilles::v1::ReloadPluginsResponse* resp) override;
  grpc::ServerUnaryReactor* EnablePlugin(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::SetPluginEnabledRequest* req,
      achilles::v1::SetPluginEnabledResponse* resp) override;
  grpc::ServerUnaryReactor* DisablePlugin(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::SetPluginEnabledRequest* req,
      achilles::v1::SetPluginEnabledResponse* resp) override;

 private:
  grpc::ServerUnaryReactor* SetEnabled(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::SetPluginEnabledRequest* req,
      achilles::v1::SetPluginEnabledResponse* resp, bool enabled);
  Backend* b_;
};

class PolicyServiceImpl final
    : public achilles::v1::PolicyService::CallbackService {
 public:
  explicit PolicyServiceImpl(Backend* backend) : b_(backend) {}
  grpc::ServerUnaryReactor* GetPolicy(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::GetPolicyRequest* req,
      achilles::v1::GetPolicyResponse* resp) override;
  grpc::ServerUnaryReactor* SetPolicy(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::SetPolicyRequest* req,
      achilles::v1::SetPolicyResponse* resp) override;

 private:
  Backend* b_;
};

class CaseloadServiceImpl final
    : public achilles::v1::CaseloadService::CallbackService {
 public:
  // `workers` = 0: one per core.
  CaseloadServiceImpl(Backend* backend, int workers)
      : b_(backend), workers_(workers) {}
  grpc::ServerWriteReactor<achilles::v1::ReEvaluateEvent>* ReEvaluate(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::ReEvaluateRequest* req) override;
  grpc::ServerUnaryReactor* Worklist(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::WorklistRequest* req,
      achilles::v1::WorklistResponse* resp) override;

 private:
  Backend* b_;
  int workers_;
};

class StoreServiceImpl final
    : public achilles::v1::StoreService::CallbackService {
 public:
  // `backup_dir` empty = backups off.
  StoreServiceImpl(Backend* backend, std::string backup_dir)
      : b_(backend), backup_dir_(std::move(backup_dir)) {}
  grpc::ServerUnaryReactor* Checkpoint(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::CheckpointRequest* req,
      achilles::v1::CheckpointResponse* resp) override;

 private:
  Backend* b_;
  std::string backup_dir_;
};

// Maps gRPC's "request could not be decoded" (UNIMPLEMENTED, no message) to
// INVALID_ARGUMENT with a clear message. Install on the ServerBuilder.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeDecodeErrorInterceptorFactory();

// Lists plugin records with this clinic's enabled state.
void FillPluginInfos(
    const plugins::PluginSet& set, const achilles::v1::ClinicPolicy& policy,
    google::protobuf::RepeatedPtrField<achilles::v1::PluginInfo>* out);

}  // namespace achilles::api

#endif  // ACHILLES_SERVICES_API_API_H_
