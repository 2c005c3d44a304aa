#include "services/engine/rules/rules.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "services/engine/engine.h"
#include "services/engine/features.h"
#include "tests/common/events.h"

namespace achilles::engine {
namespace {

using ::achilles::testing::Day;
using ::achilles::testing::Finding;
using ::achilles::testing::MakeEvent;
using ::achilles::testing::RunEvent;

ScreenResult Screen(const std::vector<v1::Event>& t, int64_t as_of,
                    v1::Features* f_out = nullptr,
                    v1::ClinicPolicy policy = DefaultPolicy()) {
  v1::Features f = ComputeFeatures(t, as_of, policy);
  ScreenResult r = RunBuiltInRules(t, as_of, policy, &f);
  if (f_out != nullptr) *f_out = f;
  return r;
}

bool Fired(const ScreenResult& r, const std::string& rule) {
  return std::any_of(
      r.recommendations.begin(), r.recommendations.end(),
      [&](const auto& rec) { return rec.rationale().rule_id() == rule; });
}

bool Blocks(const ScreenResult& r, const std::string& tag) {
  return std::any_of(r.contraindications.begin(), r.contraindications.end(),
                     [&](const auto& c) { return c.blocked_tag() == tag; });
}

TEST(SafetyScreenTest, PopIsCriticalAndBlocksAllLoading) {
  v1::Event pop = MakeEvent("s1", Day(3));
  pop.mutable_symptom_flags()->set_pop_or_snap(true);
  v1::Features f;
  auto r = Screen({pop}, Day(3), &f);
  ASSERT_TRUE(Fired(r, "RF-1"));
  EXPECT_EQ(r.recommendations[0].severity(), v1::SEVERITY_CRITICAL);
  EXPECT_EQ(r.recommendations[0].rationale().observed(0).event_ids(0), "s1");
  EXPECT_TRUE(Blocks(r, "exercise"));
  EXPECT_TRUE(Blocks(r, "running"));
  EXPECT_EQ(f.worst_red_flag(), v1::SEVERITY_CRITICAL);
  EXPECT_FALSE(f.progression_allowed());
}

TEST(SafetyScreenTest, PopIsClearedByALaterTearRuledOutFinding) {
  v1::Event pop = MakeEvent("s1", Day(3));
  pop.mutable_symptom_flags()->set_pop_or_snap(true);
  v1::Event cleared = MakeEvent("f1", Day(4));
  cleared.mutable_finding()->set_tear_ruled_out(true);
  EXPECT_FALSE(Fired(Screen({pop, cleared}, Day(5)), "RF-1"));
  // A finding before the pop does not clear it.
  cleared.mutable_occurred_at()->set_seconds(Day(2) / 1000000);
  EXPECT_TRUE(Fired(Screen({cleared, pop}, Day(5)), "RF-1"));
}

TEST(SafetyScreenTest, RF4NeedsPainAbove5AndNoEasing) {
  v1::Event run = RunEvent("r1", Day(1), 6);
  run.mutable_run_session()->mutable_response()->set_eased_with_warmup(true);
  EXPECT_FALSE(Fired(Screen({run}, Day(1)), "RF-4"));
  run.mutable_run_session()->mutable_response()->set_eased_with_warmup(false);
  EXPECT_TRUE(Fired(Screen({run}, Day(1)), "RF-4"));
  // Unknown easing still fires (restrictive), with lower confidence and a
  // data gap.
  run.mutable_run_session()->mutable_response()->clear_eased_with_warmup();
  auto r = Screen({run}, Day(1));
  ASSERT_TRUE(Fired(r, "RF-4"));
  EXPECT_LT(r.recommendations[0].confidence(), 1.0);
  EXPECT_FALSE(r.data_gaps.empty());
  // Exactly 5 is not above 5.
  EXPECT_FALSE(Fired(Screen({RunEvent("r2", Day(1), 5)}, Day(1)), "RF-4"));
}

TEST(SafetyScreenTest, SettleTimeTiers) {
  auto with_settle = [](double h) {
    v1::Event r = RunEvent("r1", Day(1), 2);
    r.mutable_run_session()->mutable_response()->set_settle_time_hours(h);
    return r;
  };
  auto at24 = Screen({with_settle(24)}, Day(3));
  EXPECT_FALSE(Fired(at24, "RF-8"));
  EXPECT_FALSE(Fired(at24, "RF-5"));
  auto at30 = Screen({with_settle(30)}, Day(3));
  EXPECT_TRUE(Fired(at30, "RF-8"));
  EXPECT_FALSE(Fired(at30, "RF-5"));
  auto at48 = Screen({with_settle(48)}, Day(3));
  EXPECT_TRUE(Fired(at48, "RF-8"));
  auto at49 = Screen({with_settle(49)}, Day(3));
  EXPECT_TRUE(Fired(at49, "RF-5"));
  EXPECT_FALSE(Fired(at49, "RF-8"));
}

TEST(SafetyScreenTest, AmberHoldsAndRedStopsUnderTrafficLight) {
  auto amber = Screen({RunEvent("r1", Day(1), 4)}, Day(1));
  ASSERT_TRUE(Fired(amber, "C"));
  EXPECT_TRUE(Blocks(amber, "progression"));
  EXPECT_FALSE(Blocks(amber, "running"));
  v1::Event red = RunEvent("r1", Day(1), 6);
  red.mutable_run_session()->mutable_response()->set_eased_with_warmup(true);
  auto r = Screen({red}, Day(1));
  ASSERT_TRUE(Fired(r, "C"));
  EXPECT_TRUE(Blocks(r, "running"));
  EXPECT_EQ(Screen({RunEvent("r1", Day(1), 3)}, Day(1)).recommendations.size(),
            0u);
}

TEST(SafetyScreenTest, InsertionalAndUnknownLocationBlockHeelDrops) {
  EXPECT_TRUE(
      Blocks(Screen({Finding("f", Day(0), v1::LOCATION_INSERTIONAL)}, Day(0)),
             "heel_below_step"));
  EXPECT_TRUE(
      Blocks(Screen({Finding("f", Day(0), v1::LOCATION_UNKNOWN)}, Day(0)),
             "heel_below_step"));
  EXPECT_FALSE(
      Blocks(Screen({Finding("f", Day(0), v1::LOCATION_MIDPORTION)}, Day(0)),
             "heel_below_step"));
}

TEST(SafetyScreenTest, NightPainHasNoSourcedRule) {
  v1::Event night = MakeEvent("s1", Day(1));
  night.mutable_symptom_flags()->set_night_pain(true);
  EXPECT_TRUE(Screen({night}, Day(1)).recommendations.empty());
}

}  // namespace
}  // namespace achilles::engine
