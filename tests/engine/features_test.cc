#include "services/engine/features.h"

#include <gtest/gtest.h>

#include "services/engine/engine.h"
#include "tests/common/events.h"

namespace achilles::engine {
namespace {

using ::achilles::testing::Day;
using ::achilles::testing::Finding;
using ::achilles::testing::MakeEvent;
using ::achilles::testing::RunEvent;

TEST(FeaturesTest, EmptyTimelineHasNothing) {
  auto f = ComputeFeatures({}, Day(0), DefaultPolicy());
  EXPECT_EQ(f.event_count(), 0);
  EXPECT_EQ(f.pain_zone(), v1::PAIN_ZONE_UNSPECIFIED);
  EXPECT_FALSE(f.last_pain_during().present());
}

TEST(FeaturesTest, FollowUpPainReportMergesIntoItsRun) {
  v1::Event run = RunEvent("r1", Day(1), 2);
  v1::Event follow = MakeEvent("p1", Day(2));
  follow.mutable_pain_report()->set_related_event_id("r1");
  follow.mutable_pain_report()->mutable_response()->set_pain_next_morning(4);
  follow.mutable_pain_report()->mutable_response()->set_morning_vs_baseline(
      v1::COMPARISON_WORSE);
  auto f = ComputeFeatures({run, follow}, Day(3), DefaultPolicy());
  EXPECT_EQ(f.last_load_event_id(), "r1");
  EXPECT_EQ(f.last_pain_next_morning().value(), 4);
  EXPECT_EQ(f.last_morning_vs_baseline(), v1::COMPARISON_WORSE);
  ASSERT_EQ(f.last_pain_next_morning().event_ids_size(), 2);
  EXPECT_EQ(f.last_pain_next_morning().event_ids(1), "p1");
}

TEST(FeaturesTest, WeeklyVolumeAndChange) {
  std::vector<v1::Event> t = {
      RunEvent("a", Day(1), 1, 10), RunEvent("b", Day(3), 1, 10),
      RunEvent("c", Day(9), 1, 12), RunEvent("d", Day(11), 1, 10)};
  auto f = ComputeFeatures(t, Day(13), DefaultPolicy());
  EXPECT_DOUBLE_EQ(f.run_km_last_7d().value(), 22);
  EXPECT_DOUBLE_EQ(f.run_km_prior_7d().value(), 20);
  EXPECT_DOUBLE_EQ(f.run_km_change_pct().value(), 10);
  EXPECT_EQ(f.days_since_last_run().value(), 2);
}

TEST(FeaturesTest, TrendNeedsThreeRisingWeeks) {
  std::vector<v1::Event> t = {RunEvent("a", Day(1), 2),
                              RunEvent("b", Day(8), 3)};
  auto two = ComputeFeatures(t, Day(13), DefaultPolicy());
  EXPECT_EQ(two.pain_trend(), v1::TREND_STABLE);
  t.push_back(RunEvent("c", Day(15), 4));
  auto three = ComputeFeatures(t, Day(20), DefaultPolicy());
  EXPECT_EQ(three.pain_trend(), v1::TREND_WORSENING);
  ASSERT_EQ(three.weekly_mean_pain_size(), 3);
}

TEST(FeaturesTest, PainZoneFollowsPolicy) {
  v1::ClinicPolicy tl = DefaultPolicy();
  EXPECT_EQ(ZoneFor(3, true, tl), v1::PAIN_ZONE_GREEN);
  EXPECT_EQ(ZoneFor(4, true, tl), v1::PAIN_ZONE_AMBER);
  EXPECT_EQ(ZoneFor(5, true, tl), v1::PAIN_ZONE_AMBER);
  EXPECT_EQ(ZoneFor(6, true, tl), v1::PAIN_ZONE_RED);
  v1::ClinicPolicy sil = DefaultPolicy();
  sil.set_pain_model(v1::PAIN_MODEL_SILBERNAGEL_5);
  EXPECT_EQ(ZoneFor(5, true, sil), v1::PAIN_ZONE_GREEN);
  EXPECT_EQ(ZoneFor(5, false, sil), v1::PAIN_ZONE_AMBER);
  EXPECT_EQ(ZoneFor(6, true, sil), v1::PAIN_ZONE_RED);
  sil.set_silbernagel_strictly_below(true);
  EXPECT_EQ(ZoneFor(5, true, sil), v1::PAIN_ZONE_RED);
  EXPECT_EQ(ZoneFor(4, true, sil), v1::PAIN_ZONE_GREEN);
}

TEST(FeaturesTest, LatestFindingWinsAndLimpingCanBeWithdrawn) {
  v1::Event limp = MakeEvent("s1", Day(1));
  limp.mutable_symptom_flags()->set_limping(true);
  v1::Event no_limp = MakeEvent("s2", Day(2));
  no_limp.mutable_symptom_flags()->set_limping(false);
  auto f = ComputeFeatures(
      {Finding("f1", Day(0), v1::LOCATION_MIDPORTION), limp,
       Finding("f2", Day(1), v1::LOCATION_INSERTIONAL), no_limp},
      Day(3), DefaultPolicy());
  EXPECT_EQ(f.location(), v1::LOCATION_INSERTIONAL);
  EXPECT_FALSE(f.limping().present());
}

}  // namespace
}  // namespace achilles::engine
