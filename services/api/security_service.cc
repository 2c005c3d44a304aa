// Credentials and the audit trail over gRPC: operator only (see the method
// table in services/security).
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/api/api.h"
#include "services/validation/requests.h"

namespace achilles::api {

grpc::ServerUnaryReactor* CredentialServiceImpl::IssueToken(
    grpc::CallbackServerContext* ctx, const v1::IssueTokenRequest* req,
    v1::IssueTokenResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.CredentialService/IssueToken", *req, "",
               [=](const security::Caller& caller) -> absl::Status {
                 ACH_RETURN_IF_ERROR(b_->gate->CheckServed(req->clinic_id()));
                 auto issued = b_->gate->credentials()->Issue(
                     *req, caller.subject, NowMicros());
                 if (!issued.ok()) return issued.status();
                 *resp = *std::move(issued);
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* CredentialServiceImpl::RevokeToken(
    grpc::CallbackServerContext* ctx, const v1::RevokeTokenRequest* req,
    v1::RevokeTokenResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.CredentialService/RevokeToken", *req, "",
               [=](const security::Caller&) -> absl::Status {
                 auto revoked = b_->gate->credentials()->Revoke(
                     req->credential_id(), NowMicros());
                 if (!revoked.ok()) return revoked.status();
                 *resp->mutable_credential() = *std::move(revoked);
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* CredentialServiceImpl::ListTokens(
    grpc::CallbackServerContext* ctx, const v1::ListTokensRequest* req,
    v1::ListTokensResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.CredentialService/ListTokens", *req, "",
               [=](const security::Caller&) -> absl::Status {
                 for (auto& c : b_->gate->credentials()->List()) {
                   *resp->add_credentials() = std::move(c);
                 }
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* AuditServiceImpl::ListAudit(
    grpc::CallbackServerContext* ctx, const v1::ListAuditRequest* req,
    v1::ListAuditResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.AuditService/ListAudit", *req, "",
               [=](const security::Caller&) -> absl::Status {
                 ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
                 std::string pseudonym;
                 if (!req->patient_id().empty()) {
                   pseudonym = b_->gate->secret()->Pseudonym(req->clinic_id(),
                                                             req->patient_id());
                 }
                 auto page = b_->gate->audit()->List(
                     req->from_seq(), req->limit() == 0 ? 100 : req->limit(),
                     pseudonym);
                 if (!page.ok()) return page.status();
                 *resp = *std::move(page);
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* AuditServiceImpl::VerifyAudit(
    grpc::CallbackServerContext* ctx, const v1::VerifyAuditRequest* req,
    v1::VerifyAuditResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.AuditService/VerifyAudit", *req, "",
               [=](const security::Caller&) -> absl::Status {
                 auto result = b_->gate->audit()->Verify();
                 if (!result.ok()) return result.status();
                 *resp = *std::move(result);
                 return absl::OkStatus();
               });
}

}  // namespace achilles::api
