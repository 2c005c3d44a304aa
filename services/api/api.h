// gRPC service implementations of the public API (proto/achilles/v1). Thin
// handlers: request -> validation -> engine / store / plugin host -> status.
//
// Every handler goes through Serve: the caller is authenticated and
// authorized for the method (services/security), the clinic comes from the
// caller's credential, requests with unknown fields are refused, and the
// call is audited with its outcome. Handlers validate every field
// (INVALID_ARGUMENT naming the field) and map absl::Status codes one to one
// onto gRPC codes.
//
// The services use gRPC's callback API. gRPC's few callback threads only
// admit calls; the work (store, plugins) runs on the Backend's executor,
// bounded, so many calls are in flight at once (services/api/serve.h has
// the mechanics). Handlers hold no state of their own beyond the shared
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
#include "achilles/v1/security_service.grpc.pb.h"
#include "common/executor.h"
#include "plugins/host/plugin_host.h"
#include "services/backup/backup.h"
#include "services/caseload/caseload.h"
#include "services/engine/engine.h"
#include "services/security/security.h"
#include "storage/timeline_store.h"

namespace achilles::api {

// What the services share: the domain services a caseload run uses
// (caseload::Deps: store, engine, plugin host, the interactive gate and the
// run's sizes) plus the trust boundary and the request pool. One struct, so
// a caseload run gets exactly what the handlers have (a copy of the Deps
// part). Pointers are not owned.
struct Backend : caseload::Deps {
  security::Gate* gate = nullptr;
  const security::ServerSecret* secret = nullptr;  // Seals page tokens.
  // Runs handlers' blocking work (Serve); null runs it inline.
  Executor* executor = nullptr;
  // Erasures are recorded here before they run (null = no backups), so a
  // restore re-applies them (services/backup/backup.h).
  backup::ErasureLog* erasures = nullptr;
  // Held by interactive Evaluate calls; caseload workers step aside while
  // any is held (Deps::interactive points here).
  caseload::InteractiveGate interactive_gate;
};

grpc::Status ToGrpc(const absl::Status& status);

// INVALID_ARGUMENT naming the first field of `request` (at any depth) that
// this server does not know: such bytes would otherwise be stored verbatim
// and bypass every size and content check.
absl::Status RejectUnknownFields(const google::protobuf::Message& request);

// Page tokens handed to clients carry the store's position and an HMAC
// under the server secret over that position and `scope`: everything the
// next page depends on (method, clinic, patient, time range, filters). A
// token cannot be forged, edited, or replayed against another query.
// SealPageToken("") is "" (no next page).
std::string SealPageToken(const security::ServerSecret& secret,
                          const std::string& scope, const std::string& inner);
// The position inside `token` ("" for an empty token), or INVALID_ARGUMENT
// naming page_token when this server did not hand it out for `scope`.
absl::StatusOr<std::string> OpenPageToken(const security::ServerSecret& secret,
                                          const std::string& scope,
                                          const std::string& token);

// The first step of every call: the method's policy and the admitted
// caller, or why the call is refused.
absl::StatusOr<security::Caller> AdmitCall(grpc::CallbackServerContext* ctx,
                                           Backend* b, const char* method);

// The last step: the audit entry, the call's metrics and request log line
// (services/telemetry), and the status to send. `started_nanos` is when the
// call was admitted (metrics::NowNanos()).
absl::Status FinishCall(grpc::CallbackServerContext* ctx, Backend* b,
                        const char* method,
                        const absl::StatusOr<security::Caller>& caller,
                        const std::string& patient_id, absl::Status outcome,
                        int64_t started_nanos);

// Admits the caller for `method` (full name, "achilles.v1.X/Y") and refuses
// requests with unknown fields, both on gRPC's thread; then runs
// `fn(caller)` returning absl::Status on the backend's executor, audits the
// call naming `patient_id` (empty when the call names none) and finishes it
// from there. When the executor's queue is full the call is refused with
// RESOURCE_EXHAUSTED at once, and a call whose client has gone (cancelled,
// deadline passed) while queued is finished without running `fn`.
//
// `fn` runs after the handler has returned: it must capture by value (the
// request, response and context pointers stay valid until the call is
// finished), never by reference to the handler's locals.
template <typename Fn>
grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx, Backend* b,
                                const char* method,
                                const google::protobuf::Message& request,
                                const std::string& patient_id, Fn&& fn);

// Serve for work that never blocks (no store, no plugin, no disk): runs
// `fn` inline on gRPC's thread.
template <typename Fn>
grpc::ServerUnaryReactor* ServeInline(grpc::CallbackServerContext* ctx,
                                      Backend* b, const char* method,
                                      const google::protobuf::Message& request,
                                      const std::string& patient_id, Fn&& fn);

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
  // `workers` = 0: one per core. At most `max_runs` ReEvaluate streams run
  // at once; more are refused with RESOURCE_EXHAUSTED.
  CaseloadServiceImpl(Backend* backend, int max_runs)
      : b_(backend), max_runs_(max_runs) {}
  grpc::ServerWriteReactor<achilles::v1::ReEvaluateEvent>* ReEvaluate(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::ReEvaluateRequest* req) override;
  grpc::ServerUnaryReactor* Worklist(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::WorklistRequest* req,
      achilles::v1::WorklistResponse* resp) override;

 private:
  Backend* b_;
  const int max_runs_;
  std::atomic<int> runs_{0};  // ReEvaluate streams not yet done.
};

class StoreServiceImpl final
    : public achilles::v1::StoreService::CallbackService {
 public:
  // `backup_dir` empty = backups off; `keep` = backups kept by default.
  StoreServiceImpl(Backend* backend, std::string backup_dir, int keep)
      : b_(backend), backup_dir_(std::move(backup_dir)), keep_(keep) {}
  grpc::ServerUnaryReactor* Checkpoint(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::CheckpointRequest* req,
      achilles::v1::CheckpointResponse* resp) override;
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* ctx,
                                   const achilles::v1::BackupRequest* req,
                                   achilles::v1::BackupResponse* resp) override;

 private:
  Backend* b_;
  std::string backup_dir_;
  int keep_;
};

class CredentialServiceImpl final
    : public achilles::v1::CredentialService::CallbackService {
 public:
  explicit CredentialServiceImpl(Backend* backend) : b_(backend) {}
  grpc::ServerUnaryReactor* IssueToken(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::IssueTokenRequest* req,
      achilles::v1::IssueTokenResponse* resp) override;
  grpc::ServerUnaryReactor* RevokeToken(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::RevokeTokenRequest* req,
      achilles::v1::RevokeTokenResponse* resp) override;
  grpc::ServerUnaryReactor* ListTokens(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::ListTokensRequest* req,
      achilles::v1::ListTokensResponse* resp) override;

 private:
  Backend* b_;
};

class AuditServiceImpl final
    : public achilles::v1::AuditService::CallbackService {
 public:
  explicit AuditServiceImpl(Backend* backend) : b_(backend) {}
  grpc::ServerUnaryReactor* ListAudit(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::ListAuditRequest* req,
      achilles::v1::ListAuditResponse* resp) override;
  grpc::ServerUnaryReactor* VerifyAudit(
      grpc::CallbackServerContext* ctx,
      const achilles::v1::VerifyAuditRequest* req,
      achilles::v1::VerifyAuditResponse* resp) override;

 private:
  Backend* b_;
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

#include "services/api/serve.h"  // IWYU pragma: export

#endif  // ACHILLES_SERVICES_API_API_H_
