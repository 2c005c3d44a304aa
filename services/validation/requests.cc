#include "services/validation/requests.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/validation/validation.h"

namespace achilles::validation {
namespace {

namespace v1 = ::achilles::v1;

constexpr int kMaxRecommendationId = 256;
constexpr int kMaxFeedbackReason = 2048;
constexpr int kMaxClinician = 128;
constexpr int kMaxPluginId = 64;

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status PageSize(int page_size) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return Bad("page_size", absl::StrCat("must be 0-", kMaxPageSize));
  }
  return absl::OkStatus();
}

absl::Status NotNegative(absl::string_view field, int64_t value) {
  return value < 0 ? Bad(field, "must be >= 0") : absl::OkStatus();
}

// 1 to `max` bytes.
absl::Status Sized(absl::string_view field, const std::string& value, int max) {
  if (value.empty() || static_cast<int>(value.size()) > max) {
    return Bad(field, absl::StrCat("is required (1-", max, " bytes)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRequest(const v1::UpsertPatientRequest& r) {
  if (!r.has_patient()) return Bad("patient", "is required");
  return ValidatePatient(r.patient());
}

absl::Status ValidateRequest(const v1::GetPatientRequest& r) {
  return ValidateId("patient_id", r.patient_id());
}

absl::Status ValidateRequest(const v1::DeletePatientRequest& r) {
  return ValidateId("patient_id", r.patient_id());
}

// The whole batch is checked before the store is touched: one bad event
// refuses the batch and nothing is written.
absl::Status ValidateRequest(const v1::AppendEventsRequest& r, int64_t now_us) {
  ACH_RETURN_IF_ERROR(ValidateId("patient_id", r.patient_id()));
  return ValidateEventBatch(r.events(), now_us);
}

absl::Status ValidateRequest(const v1::ListEventsRequest& r) {
  ACH_RETURN_IF_ERROR(ValidateId("patient_id", r.patient_id()));
  ACH_RETURN_IF_ERROR(PageSize(r.page_size()));
  if (r.has_from()) ACH_RETURN_IF_ERROR(ValidateTimestamp("from", r.from()));
  if (r.has_to()) ACH_RETURN_IF_ERROR(ValidateTimestamp("to", r.to()));
  if (r.has_from() && r.has_to() && ToMicros(r.from()) > ToMicros(r.to())) {
    return Bad("from", "is after to");
  }
  return absl::OkStatus();
}

absl::Status ValidateRequest(const v1::ListPatientsRequest& r) {
  return PageSize(r.page_size());
}

absl::Status ValidateRequest(const v1::EvaluateRequest& r, int64_t now_us) {
  ACH_RETURN_IF_ERROR(ValidateId("patient_id", r.patient_id()));
  if (r.has_as_of()) {
    ACH_RETURN_IF_ERROR(ValidatePastTimestamp("as_of", r.as_of(), now_us));
  }
  return absl::OkStatus();
}

absl::Status ValidateRequest(const v1::GetEvaluationRequest& r) {
  ACH_RETURN_IF_ERROR(ValidateId("patient_id", r.patient_id()));
  return ValidateId("evaluation_id", r.evaluation_id());
}

absl::Status ValidateRequest(const v1::RecordFeedbackRequest& r) {
  ACH_RETURN_IF_ERROR(ValidateId("patient_id", r.patient_id()));
  ACH_RETURN_IF_ERROR(ValidateId("evaluation_id", r.evaluation_id()));
  ACH_RETURN_IF_ERROR(
      Sized("recommendation_id", r.recommendation_id(), kMaxRecommendationId));
  if (r.decision() == v1::FEEDBACK_DECISION_UNSPECIFIED ||
      !v1::FeedbackDecision_IsValid(r.decision())) {
    return Bad("decision", "must be ACCEPTED or OVERRIDDEN");
  }
  if (r.decision() == v1::FEEDBACK_DECISION_OVERRIDDEN && r.reason().empty()) {
    return Bad("reason", "is required when overriding a recommendation");
  }
  if (static_cast<int>(r.reason().size()) > kMaxFeedbackReason) {
    return Bad("reason",
               absl::StrCat("longer than ", kMaxFeedbackReason, " bytes"));
  }
  return Sized("clinician", r.clinician(), kMaxClinician);
}

absl::Status ValidateRequest(const v1::SetPluginEnabledRequest& r) {
  ACH_RETURN_IF_ERROR(Sized("plugin_id", r.plugin_id(), kMaxPluginId));
  // The policy (and so every evaluation) embeds changed_by: bound it.
  return ValidatePolicyAuthor("changed_by", r.changed_by());
}

absl::Status ValidateRequest(const v1::GetPolicyRequest& r) {
  return NotNegative("version", r.version());
}

absl::Status ValidateRequest(const v1::SetPolicyRequest& r) {
  if (!r.has_policy()) return Bad("policy", "is required");
  ACH_RETURN_IF_ERROR(ValidatePolicy(r.policy()));
  if (r.has_expected_version()) {
    ACH_RETURN_IF_ERROR(NotNegative("expected_version", r.expected_version()));
  }
  return absl::OkStatus();
}

absl::Status ValidateRequest(const v1::CheckpointRequest& r) {
  ACH_RETURN_IF_ERROR(ValidateId("name", r.name()));
  if (r.name().find_first_not_of('.') == std::string::npos) {
    return Bad("name", "'.' and '..' name directories, not backups");
  }
  return absl::OkStatus();
}

absl::Status ValidateRequest(const v1::BackupRequest& r) {
  if (r.keep() < 0 || r.keep() > 1000) {
    return Bad("keep", "must be 1-1000 (0 = the server's --backup_keep)");
  }
  return absl::OkStatus();
}

absl::Status ValidateRequest(const v1::ListAuditRequest& r) {
  if (r.limit() < 0 || r.limit() > kMaxPageSize) {
    return Bad("limit", absl::StrCat("must be 0-", kMaxPageSize));
  }
  if (r.patient_id().empty()) return absl::OkStatus();
  ACH_RETURN_IF_ERROR(ValidateId("patient_id", r.patient_id()));
  return ValidateId("clinic_id", r.clinic_id());
}

}  // namespace achilles::validation
