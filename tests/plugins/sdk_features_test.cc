// The SDK's red-flag verdicts (achilles/features.h) and Ids(), on feature
// sets the engine's safety screen produces: flags recorded only at WARNING
// or CRITICAL, RF-7 and RF-8 the step-back ones.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "achilles/features.h"
#include "achilles/recommend.h"

namespace achilles::sdk {
namespace {

v1::Features Flags(std::vector<std::string> ids, v1::Severity worst) {
  v1::Features f;
  for (auto& id : ids) f.add_red_flags(id);
  f.set_worst_red_flag(worst);
  return f;
}

TEST(SdkFeaturesTest, VerdictFromTheFlagsThatFired) {
  EXPECT_EQ(RedFlags(v1::Features()), RedFlagVerdict::kClear);
  EXPECT_EQ(RedFlags(Flags({"RF-7"}, v1::SEVERITY_WARNING)),
            RedFlagVerdict::kStepBack);
  EXPECT_EQ(RedFlags(Flags({"RF-7", "RF-8"}, v1::SEVERITY_WARNING)),
            RedFlagVerdict::kStepBack);
  EXPECT_EQ(RedFlags(Flags({"RF-8", "RF-5"}, v1::SEVERITY_WARNING)),
            RedFlagVerdict::kHold);
  EXPECT_EQ(RedFlags(Flags({"RF-7", "RF-1"}, v1::SEVERITY_CRITICAL)),
            RedFlagVerdict::kStop);
}

TEST(SdkFeaturesTest, StepBackHelpers) {
  const v1::Features both = Flags({"RF-7", "RF-4"}, v1::SEVERITY_WARNING);
  EXPECT_TRUE(RedFlagFired(both, "RF-4"));
  EXPECT_FALSE(RedFlagFired(both, "RF-8"));
  EXPECT_TRUE(AnyStepBackFlag(both));
  EXPECT_FALSE(OnlyStepBackFlags(both));
  EXPECT_TRUE(OnlyStepBackFlags(v1::Features()));
  EXPECT_FALSE(AnyStepBackFlag(v1::Features()));
  EXPECT_TRUE(IsStepBackFlag("RF-8"));
  EXPECT_FALSE(IsStepBackFlag("RF-11"));
}

TEST(SdkFeaturesTest, IdsOfAFeatureAndOfAnIdList) {
  v1::Features f;
  f.add_finding_event_ids("f1");
  f.add_finding_event_ids("f2");
  f.mutable_days_since_last_run()->add_event_ids("r1");
  EXPECT_EQ(Ids(f.finding_event_ids()), (std::vector<std::string>{"f1", "f2"}));
  EXPECT_EQ(Ids(f.days_since_last_run()), std::vector<std::string>{"r1"});
}

}  // namespace
}  // namespace achilles::sdk
