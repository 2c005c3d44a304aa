// Whole-request checks for the public API: one ValidateRequest per request
// message, holding every field rule the handlers used to spell out inline,
// so a handler is "check, then act" and every field rule lives in
// services/validation. Each error is INVALID_ARGUMENT naming the field and
// the reason, e.g. "page_size: must be 0-1000". Checks that need state (a
// plugin that is loaded, a recommendation inside a stored evaluation) stay
// with the code that holds the state.
//
// A separate library (achilles_request_validation) from validation.h's,
// because these need the gRPC service messages and achilles-plugin-test,
// which shares validation.h with the server, must not link gRPC.
//
// Pure functions; thread-safe. `now_us` bounds timestamps that may not lie
// in the future.
#ifndef ACHILLES_SERVICES_VALIDATION_REQUESTS_H_
#define ACHILLES_SERVICES_VALIDATION_REQUESTS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "achilles/v1/admin_service.pb.h"
#include "achilles/v1/decision_service.pb.h"
#include "achilles/v1/patient_service.pb.h"
#include "achilles/v1/security_service.pb.h"

namespace achilles::validation {

// Largest page a list call returns.
inline constexpr int kMaxPageSize = 1000;

absl::Status ValidateRequest(const achilles::v1::UpsertPatientRequest& r);
absl::Status ValidateRequest(const achilles::v1::GetPatientRequest& r);
absl::Status ValidateRequest(const achilles::v1::DeletePatientRequest& r);
absl::Status ValidateRequest(const achilles::v1::AppendEventsRequest& r,
                             int64_t now_us);
absl::Status ValidateRequest(const achilles::v1::ListEventsRequest& r);
absl::Status ValidateRequest(const achilles::v1::ListPatientsRequest& r);
absl::Status ValidateRequest(const achilles::v1::EvaluateRequest& r,
                             int64_t now_us);
absl::Status ValidateRequest(const achilles::v1::GetEvaluationRequest& r);
absl::Status ValidateRequest(const achilles::v1::RecordFeedbackRequest& r);
absl::Status ValidateRequest(const achilles::v1::SetPluginEnabledRequest& r);
absl::Status ValidateRequest(const achilles::v1::GetPolicyRequest& r);
absl::Status ValidateRequest(const achilles::v1::SetPolicyRequest& r);
absl::Status ValidateRequest(const achilles::v1::CheckpointRequest& r);
absl::Status ValidateRequest(const achilles::v1::BackupRequest& r);
absl::Status ValidateRequest(const achilles::v1::ListAuditRequest& r);

}  // namespace achilles::validation

#endif  // ACHILLES_SERVICES_VALIDATION_REQUESTS_H_
