#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/api/api.h"
#include "services/telemetry/telemetry.h"
#include "services/validation/requests.h"

namespace achilles::api {
namespace {

// The metrics' outcome label of an answered evaluation.
const char* ConfidenceOutcome(v1::ConfidenceLevel level) {
  switch (level) {
    case v1::CONFIDENCE_LEVEL_HIGH:
      return "high";
    case v1::CONFIDENCE_LEVEL_MODERATE:
      return "moderate";
    case v1::CONFIDENCE_LEVEL_LOW:
      return "low";
    default:
      return "unspecified";
  }
}

}  // namespace

grpc::ServerUnaryReactor* DecisionServiceImpl::Evaluate(
    grpc::CallbackServerContext* ctx, const v1::EvaluateRequest* req,
    v1::EvaluateResponse* resp) {
  return Serve(
      ctx, b_, "achilles.v1.DecisionService/Evaluate", *req, req->patient_id(),
      [=](const security::Caller& caller) -> absl::Status {
        // Caseload workers step aside while this is held.
        caseload::InteractiveGate::Pass in_flight(&b_->interactive_gate);
        const std::string* clinic = &caller.clinic;
        ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req, NowMicros()));
        engine::EvaluateOptions options;
        options.dry_run = req->dry_run();
        // This call's audit entry is synced before it is answered, and
        // covers the stored evaluation (storage::Durability).
        options.durability = storage::Durability::kCoveredByNextSync;
        if (req->has_as_of()) options.as_of_us = ToMicros(req->as_of());
        auto ev = b_->engine->Evaluate(*clinic, req->patient_id(), options);
        if (!ev.ok()) {
          telemetry::RecordEvaluation("failed");
          return ev.status();
        }
        telemetry::RecordEvaluation(ConfidenceOutcome(ev->confidence_level()));
        *resp->mutable_evaluation() = *std::move(ev);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* DecisionServiceImpl::GetEvaluation(
    grpc::CallbackServerContext* ctx, const v1::GetEvaluationRequest* req,
    v1::GetEvaluationResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.DecisionService/GetEvaluation", *req,
               req->patient_id(),
               [=](const security::Caller& caller) -> absl::Status {
                 const std::string* clinic = &caller.clinic;
                 ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
                 auto ev = b_->store->GetEvaluation(*clinic, req->patient_id(),
                                                    req->evaluation_id());
                 if (!ev.ok()) return ev.status();
                 *resp->mutable_evaluation() = *std::move(ev);
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* DecisionServiceImpl::RecordFeedback(
    grpc::CallbackServerContext* ctx, const v1::RecordFeedbackRequest* req,
    v1::RecordFeedbackResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.DecisionService/RecordFeedback", *req,
               req->patient_id(),
               [=](const security::Caller& caller) -> absl::Status {
                 const std::string* clinic = &caller.clinic;
                 ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
                 auto ev = b_->store->GetEvaluation(*clinic, req->patient_id(),
                                                    req->evaluation_id());
                 if (!ev.ok()) return ev.status();
                 const auto& recs = ev->recommendations();
                 if (std::none_of(recs.begin(), recs.end(), [&](const auto& r) {
                       return r.id() == req->recommendation_id();
                     })) {
                   return absl::NotFoundError(absl::StrCat(
                       "recommendation_id: '", req->recommendation_id(),
                       "' is not in evaluation ", req->evaluation_id()));
                 }
                 auto id = b_->store->PutFeedback(*clinic, req->patient_id(),
                                                  req->evaluation_id(),
                                                  req->SerializeAsString());
                 if (!id.ok()) return id.status();
                 resp->set_feedback_id(*id);
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* DecisionServiceImpl::Ping(
    grpc::CallbackServerContext* ctx, const v1::PingRequest* req,
    v1::PingResponse* resp) {
  return ServeInline(ctx, b_, "achilles.v1.DecisionService/Ping", *req, "",
                     [=](const security::Caller&) -> absl::Status {
                       resp->set_server_version(ACHILLES_VERSION);
                       return absl::OkStatus();
                     });
}

}  // namespace achilles::api
