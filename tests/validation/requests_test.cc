// Whole-request checks: each names the field and the reason, and a good
// request passes. Links only the request-validation module.
#include "services/validation/requests.h"

#include <gtest/gtest.h>

#include "common/time_util.h"

namespace achilles::validation {
namespace {

constexpr int64_t kNow = int64_t{1790000000} * 1000000;

template <typename R>
std::string Why(const R& r) {
  return std::string(ValidateRequest(r).message());
}

TEST(RequestsTest, PageSizesAreBounded) {
  v1::ListPatientsRequest r;
  r.set_page_size(1001);
  EXPECT_EQ(Why(r), "page_size: must be 0-1000");
  r.set_page_size(1000);
  EXPECT_TRUE(ValidateRequest(r).ok());
}

TEST(RequestsTest, ListEventsChecksIdTimesAndOrder) {
  v1::ListEventsRequest r;
  EXPECT_EQ(ValidateRequest(r).code(), absl::StatusCode::kInvalidArgument);
  r.set_patient_id("p");
  *r.mutable_from() = FromMicros(kNow);
  *r.mutable_to() = FromMicros(kNow - 1);
  EXPECT_EQ(Why(r), "from: is after to");
  *r.mutable_to() = FromMicros(kNow);
  EXPECT_TRUE(ValidateRequest(r).ok());
  r.mutable_to()->set_nanos(-1);
  EXPECT_NE(Why(r).find("to:"), std::string::npos) << Why(r);
}

TEST(RequestsTest, EvaluateRefusesAFutureAsOf) {
  v1::EvaluateRequest r;
  r.set_patient_id("p");
  EXPECT_TRUE(ValidateRequest(r, kNow).ok());
  *r.mutable_as_of() = FromMicros(kNow + kMicrosPerDay);
  EXPECT_NE(std::string(ValidateRequest(r, kNow).message()).find("as_of"),
            std::string::npos);
}

TEST(RequestsTest, FeedbackNeedsADecisionAndAReasonToOverride) {
  v1::RecordFeedbackRequest r;
  r.set_patient_id("p");
  r.set_evaluation_id("e");
  r.set_recommendation_id("safety/x");
  r.set_clinician("dr x");
  EXPECT_EQ(Why(r), "decision: must be ACCEPTED or OVERRIDDEN");
  r.set_decision(v1::FEEDBACK_DECISION_OVERRIDDEN);
  EXPECT_EQ(Why(r), "reason: is required when overriding a recommendation");
  r.set_reason(std::string(2049, 'x'));
  EXPECT_EQ(Why(r), "reason: longer than 2048 bytes");
  r.set_reason("patient prefers isometrics");
  EXPECT_TRUE(ValidateRequest(r).ok());
  r.clear_clinician();
  EXPECT_EQ(Why(r), "clinician: is required (1-128 bytes)");
}

TEST(RequestsTest, AppendEventsChecksTheWholeBatch) {
  v1::AppendEventsRequest r;
  r.set_patient_id("p");
  EXPECT_EQ(ValidateRequest(r, kNow).message(),
            "events: at least one event is required");
}

TEST(RequestsTest, PolicyAndPluginSwitches) {
  v1::SetPolicyRequest set;
  EXPECT_EQ(Why(set), "policy: is required");
  set.mutable_policy();
  set.set_expected_version(-1);
  EXPECT_EQ(Why(set), "expected_version: must be >= 0");
  v1::SetPluginEnabledRequest plugin;
  EXPECT_EQ(Why(plugin), "plugin_id: is required (1-64 bytes)");
  v1::GetPolicyRequest get;
  get.set_version(-2);
  EXPECT_EQ(Why(get), "version: must be >= 0");
}

TEST(RequestsTest, BackupNamesAndAuditFilters) {
  v1::CheckpointRequest backup;
  backup.set_name("..");
  EXPECT_EQ(Why(backup), "name: '.' and '..' name directories, not backups");
  v1::ListAuditRequest audit;
  audit.set_limit(5000);
  EXPECT_EQ(Why(audit), "limit: must be 0-1000");
  audit.set_limit(10);
  audit.set_patient_id("p");
  EXPECT_NE(Why(audit).find("clinic_id"), std::string::npos) << Why(audit);
}

}  // namespace
}  // namespace achilles::validation
