// Each built-in rule unit at its thresholds, driven through RunBuiltInRules
// with features computed from small timelines (or, where the unit reads
// what an earlier unit recorded, called directly with a RuleContext): fires
// or not, the red flag it records, the tags it blocks, its provenance and
// its id.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "common/time_util.h"
#include "services/engine/engine.h"
#include "services/engine/features.h"
#include "services/engine/rules/rule_unit.h"
#include "services/engine/rules/rules.h"
#include "tests/common/events.h"

namespace achilles::engine {
namespace {

using ::achilles::testing::Day;
using ::achilles::testing::ExerciseEvent;
using ::achilles::testing::Finding;
using ::achilles::testing::FollowUp;
using ::achilles::testing::MakeEvent;
using ::achilles::testing::Note;
using ::achilles::testing::PainRating;
using ::achilles::testing::RunEvent;
using ::achilles::testing::SettledRun;
using ::achilles::testing::Stiffness;

struct Screened {
  ScreenResult r;
  v1::Features f;
};

Screened Screen(const std::vector<v1::Event>& t, int64_t as_of,
                const v1::ClinicPolicy& policy = DefaultPolicy()) {
  Screened s;
  s.f = ComputeFeatures(t, as_of, policy);
  s.r = RunBuiltInRules(t, as_of, policy, &s.f);
  return s;
}

// The first recommendation of `rule_id`, or null.
const v1::Recommendation* Rec(const Screened& s, const std::string& rule_id) {
  for (const auto& r : s.r.recommendations) {
    if (r.rationale().rule_id() == rule_id) return &r;
  }
  return nullptr;
}

bool Fired(const Screened& s, const std::string& rule_id) {
  return Rec(s, rule_id) != nullptr;
}

// The tags `rule_id` blocks, sorted.
std::vector<std::string> Blocked(const Screened& s,
                                 const std::string& rule_id) {
  std::vector<std::string> tags;
  for (const auto& c : s.r.contraindications) {
    if (c.rule_id() == rule_id) tags.push_back(c.blocked_tag());
  }
  std::sort(tags.begin(), tags.end());
  return tags;
}

bool RedFlag(const Screened& s, const std::string& id) {
  return std::find(s.f.red_flags().begin(), s.f.red_flags().end(), id) !=
         s.f.red_flags().end();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

using Tags = std::vector<std::string>;

v1::Event Flags(const std::string& id, int64_t at) {
  v1::Event e = MakeEvent(id, at);
  e.mutable_symptom_flags();
  return e;
}

v1::Event GoodRun(const std::string& id, int64_t at, double km = 5) {
  return SettledRun(id, at, 2, 12, km);
}

// A run rated `pain` that eased with warm-up, so RF-4 stays silent and
// only the pain policy speaks.
v1::Event EasedRun(const std::string& id, int64_t at, int pain,
                   double settle_hours = 12) {
  v1::Event e = SettledRun(id, at, pain, settle_hours);
  e.mutable_run_session()->mutable_response()->set_eased_with_warmup(true);
  return e;
}

v1::Event LadderRun(const std::string& id, int64_t at, int level) {
  v1::Event e = GoodRun(id, at);
  e.mutable_run_session()->set_ladder_level(level);
  return e;
}

v1::ClinicPolicy Silbernagel(bool strictly_below) {
  v1::ClinicPolicy p = DefaultPolicy();
  p.set_pain_model(v1::PAIN_MODEL_SILBERNAGEL_5);
  p.set_silbernagel_max_ok(5);
  p.set_silbernagel_strictly_below(strictly_below);
  return p;
}

// ---- Ids and provenance ----------------------------------------------------

TEST(RuleUnitsTest, SafetyAndEngineIdsAndProvenance) {
  v1::Event run = RunEvent("r1", Day(1), 7);
  run.mutable_run_session()->mutable_response()->set_eased_with_warmup(false);
  auto s =
      Screen({Finding("f1", Day(0), v1::LOCATION_MIDPORTION), run}, Day(2));
  const auto* rf4 = Rec(s, "RF-4");
  ASSERT_NE(rf4, nullptr);
  EXPECT_EQ(rf4->id(), "safety/RF-4");
  EXPECT_EQ(rf4->plugin_id(), "safety");
  EXPECT_EQ(rf4->provenance(), v1::PROVENANCE_SAFETY_SCREEN);
  const auto* expect = Rec(s, "E-EXPECT");
  ASSERT_NE(expect, nullptr);
  EXPECT_EQ(expect->id(), "engine/E-EXPECT");
  EXPECT_EQ(expect->plugin_id(), "engine");
  EXPECT_EQ(expect->provenance(), v1::PROVENANCE_ENGINE_RULE);
  for (const auto& c : s.r.contraindications) {
    EXPECT_EQ(c.provenance(), v1::PROVENANCE_SAFETY_SCREEN) << c.id();
    EXPECT_EQ(c.raised_by(), "safety");
    EXPECT_EQ(c.id(), "safety/" + c.rule_id() + "/" + c.blocked_tag());
  }
}

TEST(RuleUnitsTest, TableAndRuleListAgree) {
  int count = 0;
  const auto* table = engine_internal::RuleTable(&count);
  const auto list = BuiltInRuleList();
  ASSERT_EQ(static_cast<int>(list.size()), count);
  for (int i = 0; i < count; ++i) {
    EXPECT_STREQ(list[i].id, table[i].id);
    EXPECT_NE(std::string(table[i].contract), "");
  }
}

// ---- RF-1 ------------------------------------------------------------------

TEST(Rf1Test, PopIsCriticalAndStopsAllLoading) {
  v1::Event pop = Flags("s1", Day(1));
  pop.mutable_symptom_flags()->set_pop_or_snap(true);
  auto s = Screen({pop}, Day(1));
  const auto* r = Rec(s, "RF-1");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->severity(), v1::SEVERITY_CRITICAL);
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_SAFETY_SCREEN);
  EXPECT_EQ(r->id(), "safety/RF-1");
  EXPECT_TRUE(RedFlag(s, "RF-1"));
  EXPECT_EQ(s.f.worst_red_flag(), v1::SEVERITY_CRITICAL);
  EXPECT_EQ(Blocked(s, "RF-1"), (Tags{"exercise", "load_increase",
                                      "progression", "racing", "running"}));
}

TEST(Rf1Test, SuddenPainAloneIsNotAPop) {
  v1::Event pain = Flags("s1", Day(1));
  pain.mutable_symptom_flags()->set_sudden_severe_pain(true);
  EXPECT_FALSE(Fired(Screen({pain}, Day(1)), "RF-1"));
}

TEST(Rf1Test, PopYesThenNo) {
  v1::Event yes = Flags("s1", Day(1));
  yes.mutable_symptom_flags()->set_pop_or_snap(true);
  v1::Event no = Flags("s2", Day(2));
  no.mutable_symptom_flags()->set_pop_or_snap(false);
  auto s = Screen({yes, no}, Day(2));
  EXPECT_FALSE(Fired(s, "RF-1"));
  EXPECT_FALSE(RedFlag(s, "RF-1"));
}

TEST(Rf1Test, OnlyALaterTearRuledOutFindingClearsThePop) {
  v1::Event pop = Flags("s1", Day(1));
  pop.mutable_symptom_flags()->set_pop_or_snap(true);
  v1::Event same_time = MakeEvent("f1", Day(1));
  same_time.mutable_finding()->set_tear_ruled_out(true);
  EXPECT_TRUE(Fired(Screen({same_time, pop}, Day(2)), "RF-1"));
  v1::Event later = MakeEvent("f2", Day(1) + 1);
  later.mutable_finding()->set_tear_ruled_out(true);
  EXPECT_FALSE(Fired(Screen({pop, later}, Day(2)), "RF-1"));
}

// ---- RF-2 ------------------------------------------------------------------

TEST(Rf2Test, CannotHeelRaiseIsCriticalAndBlocksHeavyLoading) {
  v1::Event flag = Flags("s1", Day(1));
  flag.mutable_symptom_flags()->set_cannot_single_leg_heel_raise_or_push_off(
      true);
  auto s = Screen({flag}, Day(1));
  ASSERT_TRUE(Fired(s, "RF-2"));
  EXPECT_EQ(Rec(s, "RF-2")->severity(), v1::SEVERITY_CRITICAL);
  EXPECT_TRUE(RedFlag(s, "RF-2"));
  EXPECT_EQ(Blocked(s, "RF-2"), (Tags{"heavy_loading", "load_increase",
                                      "progression", "racing", "running"}));
}

TEST(Rf2Test, TheLatestReportWinsAcrossFlagsAndFindings) {
  v1::Event cannot = Flags("s1", Day(1));
  cannot.mutable_symptom_flags()->set_cannot_single_leg_heel_raise_or_push_off(
      true);
  v1::Event can = MakeEvent("f1", Day(2));
  can.mutable_finding()->set_can_single_leg_heel_raise(true);
  EXPECT_FALSE(Fired(Screen({cannot, can}, Day(3)), "RF-2"));
  v1::Event cannot_seen = MakeEvent("f2", Day(3));
  cannot_seen.mutable_finding()->set_can_single_leg_heel_raise(false);
  EXPECT_TRUE(Fired(Screen({cannot, can, cannot_seen}, Day(3)), "RF-2"));
}

// ---- RF-3 ------------------------------------------------------------------

TEST(Rf3Test, SwellingYesThenNo) {
  v1::Event yes = Flags("s1", Day(1));
  yes.mutable_symptom_flags()->set_swelling_or_bruising_significant(true);
  auto s = Screen({yes}, Day(1));
  ASSERT_TRUE(Fired(s, "RF-3"));
  EXPECT_EQ(Rec(s, "RF-3")->severity(), v1::SEVERITY_CRITICAL);
  EXPECT_TRUE(RedFlag(s, "RF-3"));
  EXPECT_EQ(Blocked(s, "RF-3"),
            (Tags{"load_increase", "progression", "racing", "running"}));
  v1::Event no = Flags("s2", Day(2));
  no.mutable_symptom_flags()->set_swelling_or_bruising_significant(false);
  EXPECT_FALSE(Fired(Screen({yes, no}, Day(2)), "RF-3"));
}

// ---- RF-4 ------------------------------------------------------------------

v1::Event PainRun(int pain, std::optional<bool> eased) {
  v1::Event e = RunEvent("r1", Day(1), pain);
  if (eased) {
    e.mutable_run_session()->mutable_response()->set_eased_with_warmup(*eased);
  }
  return e;
}

TEST(Rf4Test, FiresAboveFiveWhenNotEasing) {
  EXPECT_FALSE(Fired(Screen({PainRun(5, false)}, Day(1)), "RF-4"));
  auto s = Screen({PainRun(6, false)}, Day(1));
  ASSERT_TRUE(Fired(s, "RF-4"));
  EXPECT_EQ(Rec(s, "RF-4")->severity(), v1::SEVERITY_WARNING);
  EXPECT_TRUE(RedFlag(s, "RF-4"));
  EXPECT_EQ(Blocked(s, "RF-4"),
            (Tags{"load_increase", "progression", "racing", "running"}));
  EXPECT_FALSE(Fired(Screen({PainRun(6, true)}, Day(1)), "RF-4"));
}

TEST(Rf4Test, UnrecordedEasingFiresAtLowerConfidenceWithAGap) {
  auto s = Screen({PainRun(6, std::nullopt)}, Day(1));
  ASSERT_TRUE(Fired(s, "RF-4"));
  EXPECT_DOUBLE_EQ(Rec(s, "RF-4")->confidence(), 0.7);
  EXPECT_TRUE(std::any_of(
      s.r.data_gaps.begin(), s.r.data_gaps.end(),
      [](const std::string& g) { return Contains(g, "eased with warm-up"); }));
}

// ---- RF-5 ------------------------------------------------------------------

TEST(Rf5Test, SettleOverFortyEightHours) {
  EXPECT_FALSE(
      Fired(Screen({SettledRun("r1", Day(1), 2, 48)}, Day(4)), "RF-5"));
  auto s = Screen({SettledRun("r1", Day(1), 2, 48.5)}, Day(4));
  ASSERT_TRUE(Fired(s, "RF-5"));
  EXPECT_TRUE(RedFlag(s, "RF-5"));
  EXPECT_EQ(Blocked(s, "RF-5"),
            (Tags{"load_increase", "progression", "racing", "running"}));
  // A later run that settled in time ends it.
  EXPECT_FALSE(Fired(
      Screen({SettledRun("r1", Day(1), 2, 60), SettledRun("r2", Day(4), 2, 12)},
             Day(5)),
      "RF-5"));
}

// ---- RF-6 ------------------------------------------------------------------

v1::Event Limp(const std::string& id, int64_t at, bool limping) {
  v1::Event e = Flags(id, at);
  e.mutable_symptom_flags()->set_limping(limping);
  return e;
}

TEST(Rf6Test, LimpingYesThenNo) {
  auto s = Screen({Limp("s1", Day(1), true)}, Day(1));
  ASSERT_TRUE(Fired(s, "RF-6"));
  EXPECT_EQ(Rec(s, "RF-6")->severity(), v1::SEVERITY_WARNING);
  EXPECT_TRUE(RedFlag(s, "RF-6"));
  EXPECT_EQ(Blocked(s, "RF-6"),
            (Tags{"load_increase", "progression", "racing", "running"}));
  EXPECT_FALSE(Fired(
      Screen({Limp("s1", Day(1), true), Limp("s2", Day(2), false)}, Day(2)),
      "RF-6"));
}

// ---- RF-7 ------------------------------------------------------------------

// Daily-living ratings in the last three weekly windows as of day 28.
std::vector<v1::Event> ThreeWeeksOfPain(int a, int b, int c) {
  return {PainRating("p1", Day(10), a), PainRating("p2", Day(17), b),
          PainRating("p3", Day(24), c)};
}

TEST(Rf7Test, RisingWeeklyPainPullsBack) {
  EXPECT_FALSE(Fired(Screen(ThreeWeeksOfPain(2, 3, 3), Day(28)), "RF-7"));
  auto s = Screen(ThreeWeeksOfPain(2, 3, 4), Day(28));
  const auto* r = Rec(s, "RF-7");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->severity(), v1::SEVERITY_WARNING);
  EXPECT_EQ(r->rationale().policy(), "trend window 3 weeks");
  EXPECT_TRUE(RedFlag(s, "RF-7"));
  EXPECT_EQ(Blocked(s, "RF-7"),
            (Tags{"load_increase", "progression", "racing"}));
}

TEST(Rf7Test, RisingStiffnessAloneIsEnough) {
  auto stiff = [](const std::string& id, double day, int severity) {
    v1::Event e = Stiffness(id, Day(day), v1::COMPARISON_UNSPECIFIED);
    e.mutable_morning_stiffness()->set_severity(severity);
    return e;
  };
  auto s = Screen({stiff("m1", 10, 2), stiff("m2", 17, 3), stiff("m3", 24, 4)},
                  Day(28));
  ASSERT_TRUE(Fired(s, "RF-7"));
  EXPECT_TRUE(Contains(Rec(s, "RF-7")->detail(), "morning stiffness"));
}

// ---- RF-8 ------------------------------------------------------------------

TEST(Rf8Test, SettleBandAboveTwentyFourUpToFortyEight) {
  EXPECT_FALSE(
      Fired(Screen({SettledRun("r1", Day(1), 2, 24)}, Day(3)), "RF-8"));
  auto s = Screen({SettledRun("r1", Day(1), 2, 24.5)}, Day(3));
  ASSERT_TRUE(Fired(s, "RF-8"));
  EXPECT_EQ(Rec(s, "RF-8")->severity(), v1::SEVERITY_WARNING);
  EXPECT_TRUE(RedFlag(s, "RF-8"));
  EXPECT_EQ(Blocked(s, "RF-8"), (Tags{"load_increase", "progression"}));
  EXPECT_TRUE(Fired(Screen({SettledRun("r1", Day(1), 2, 48)}, Day(3)), "RF-8"));
  EXPECT_FALSE(
      Fired(Screen({SettledRun("r1", Day(1), 2, 48.5)}, Day(3)), "RF-8"));
}

TEST(Rf8Test, WorseNextMorningAfterTheSession) {
  v1::Event follow = FollowUp("p1", Day(2), "r1");
  follow.mutable_pain_report()->mutable_response()->set_morning_vs_baseline(
      v1::COMPARISON_WORSE);
  EXPECT_TRUE(
      Fired(Screen({RunEvent("r1", Day(1), 2), follow}, Day(2)), "RF-8"));
}

// "Reduce the next session" speaks of the last one: an old report says
// nothing about today (T-RECENCY asks for a current one instead).
TEST(Rf8Test, AWorseMorningOlderThanTheRecencyWindowIsNotToday) {
  const auto t =
      std::vector<v1::Event>{Stiffness("m1", Day(1), v1::COMPARISON_WORSE)};
  EXPECT_TRUE(Fired(Screen(t, Day(15)), "RF-8"));
  EXPECT_FALSE(Fired(Screen(t, Day(16)), "RF-8"));
}

TEST(Rf8Test, LatestMorningStiffnessReportWorse) {
  EXPECT_TRUE(Fired(
      Screen({Stiffness("m1", Day(1), v1::COMPARISON_WORSE)}, Day(1)), "RF-8"));
  EXPECT_FALSE(Fired(Screen({Stiffness("m1", Day(1), v1::COMPARISON_WORSE),
                             Stiffness("m2", Day(2), v1::COMPARISON_SAME)},
                            Day(2)),
                     "RF-8"));
}

// ---- RF-9 ------------------------------------------------------------------

TEST(Rf9Test, NoImprovementNeedsFourteenDaysOfSymptoms) {
  // Weekly means [5, 5] over two windows; 14 vs 13 days since the first.
  auto s = Screen({PainRating("p1", Day(0), 5), PainRating("p2", Day(14), 5)},
                  Day(14));
  const auto* r = Rec(s, "RF-9");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->severity(), v1::SEVERITY_INFO);
  EXPECT_EQ(r->category(), v1::CATEGORY_REFERRAL);
  EXPECT_FALSE(RedFlag(s, "RF-9"));  // Info: not a red flag.
  EXPECT_FALSE(
      Fired(Screen({PainRating("p1", Day(1), 5), PainRating("p2", Day(14), 5)},
                   Day(14)),
            "RF-9"));
}

TEST(Rf9Test, NoImprovementNeedsPainAboveTheGreenCeiling) {
  auto steady = [](int pain) {
    return Screen(
        {PainRating("p1", Day(0), pain), PainRating("p2", Day(14), pain)},
        Day(14));
  };
  EXPECT_FALSE(Fired(steady(3), "RF-9"));
  EXPECT_TRUE(Fired(steady(4), "RF-9"));
  // Lower than the first week is an improvement.
  EXPECT_FALSE(
      Fired(Screen({PainRating("p1", Day(0), 6), PainRating("p2", Day(14), 5)},
                   Day(14)),
            "RF-9"));
}

TEST(Rf9Test, TwoFlaresInARowRefer) {
  EXPECT_FALSE(
      Fired(Screen({SettledRun("r1", Day(1), 2, 30)}, Day(2)), "RF-9"));
  auto s =
      Screen({SettledRun("r1", Day(1), 2, 30), SettledRun("r2", Day(3), 2, 30)},
             Day(4));
  ASSERT_TRUE(Fired(s, "RF-9"));
  EXPECT_TRUE(Contains(Rec(s, "RF-9")->summary(), "flare after each attempt"));
}

// ---- RF-10 -----------------------------------------------------------------

v1::Event TearRuledOut(bool ruled_out) {
  v1::Event e = MakeEvent("f1", Day(0));
  e.mutable_finding()->set_tear_ruled_out(ruled_out);
  return e;
}

TEST(Rf10Test, NotRuledOutIsAWarningCard) {
  auto s = Screen({TearRuledOut(false)}, Day(1));
  ASSERT_TRUE(Fired(s, "RF-10"));
  EXPECT_EQ(Rec(s, "RF-10")->severity(), v1::SEVERITY_WARNING);
  EXPECT_TRUE(RedFlag(s, "RF-10"));
  EXPECT_EQ(Blocked(s, "RF-10"), Tags{"safe_to_continue_running"});
}

TEST(Rf10Test, UnrecordedBlocksWithAGapAndNoCard) {
  auto s = Screen({RunEvent("r1", Day(0), 2)}, Day(1));
  EXPECT_FALSE(Fired(s, "RF-10"));
  EXPECT_EQ(Blocked(s, "RF-10"), Tags{"safe_to_continue_running"});
  EXPECT_TRUE(std::any_of(
      s.r.data_gaps.begin(), s.r.data_gaps.end(),
      [](const std::string& g) { return Contains(g, "ruled out"); }));
}

TEST(Rf10Test, RuledOutLiftsTheBlock) {
  auto s = Screen({TearRuledOut(true)}, Day(1));
  EXPECT_FALSE(Fired(s, "RF-10"));
  EXPECT_TRUE(Blocked(s, "RF-10").empty());
}

// ---- RF-11 -----------------------------------------------------------------

v1::Event Treatment(const std::string& id, int64_t at, v1::Treatment what,
                    bool planned = false) {
  v1::Event e = MakeEvent(id, at);
  e.mutable_treatment_request()->set_treatment(what);
  e.mutable_treatment_request()->set_planned(planned);
  return e;
}

TEST(Rf11Test, CortisoneAskedOrPlanned) {
  auto asked = Screen(
      {Treatment("t1", Day(0), v1::TREATMENT_CORTISONE_INJECTION)}, Day(1));
  const auto* r = Rec(asked, "RF-11");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->severity(), v1::SEVERITY_WARNING);
  EXPECT_TRUE(Contains(r->rationale().observed(0).label(), "asked about"));
  // A caution about a treatment, not a symptom: it must not halt loading.
  EXPECT_FALSE(RedFlag(asked, "RF-11"));
  EXPECT_EQ(Blocked(asked, "RF-11"), Tags{"cortisone"});
  auto planned =
      Screen({Treatment("t1", Day(0), v1::TREATMENT_CORTISONE_INJECTION, true)},
             Day(1));
  ASSERT_TRUE(Fired(planned, "RF-11"));
  EXPECT_TRUE(Contains(Rec(planned, "RF-11")->rationale().observed(0).label(),
                       "planned"));
  EXPECT_FALSE(
      Fired(Screen({Treatment("t1", Day(0), v1::TREATMENT_SHOCKWAVE)}, Day(1)),
            "RF-11"));
}

// ---- RF-12 -----------------------------------------------------------------

TEST(Rf12Test, SpreadingOrSharpPainIsInfoAndBlocksLoadIncrease) {
  v1::Event spreads = Flags("s1", Day(1));
  spreads.mutable_symptom_flags()->set_pain_spreads_to_heel_or_midfoot(true);
  auto s = Screen({spreads}, Day(1));
  ASSERT_TRUE(Fired(s, "RF-12"));
  EXPECT_EQ(Rec(s, "RF-12")->severity(), v1::SEVERITY_INFO);
  EXPECT_FALSE(RedFlag(s, "RF-12"));  // Info: not a red flag.
  EXPECT_EQ(Blocked(s, "RF-12"), (Tags{"load_increase", "progression"}));
  v1::Event sharp = Flags("s2", Day(1));
  sharp.mutable_symptom_flags()->set_sharp_persistent_pain(true);
  EXPECT_TRUE(Fired(Screen({sharp}, Day(1)), "RF-12"));
  v1::Event no = Flags("s3", Day(2));
  no.mutable_symptom_flags()->set_pain_spreads_to_heel_or_midfoot(false);
  EXPECT_FALSE(Fired(Screen({spreads, no}, Day(2)), "RF-12"));
}

// ---- E-ADJUNCT and E-ICE ---------------------------------------------------

v1::Event Visa(const std::string& id, int64_t at, int score) {
  v1::Event e = MakeEvent(id, at);
  e.mutable_questionnaire()->set_kind(v1::QUESTIONNAIRE_VISA_A);
  e.mutable_questionnaire()->set_total_score(score);
  return e;
}

// Loading since day 0, VISA-A 60 then `latest`.
std::vector<v1::Event> Rehab(int latest) {
  return {ExerciseEvent("e1", Day(0), v1::PROGRAMME_HEAVY_SLOW_RESISTANCE, 1),
          Visa("q1", Day(0), 60), Visa("q2", Day(80), latest)};
}

TEST(EAdjunctTest, SpecialistDiscussionAfterNinetyDaysOfFailedRehab) {
  EXPECT_FALSE(Fired(Screen(Rehab(55), Day(89)), "E-ADJUNCT"));
  auto s = Screen(Rehab(55), Day(90));
  const auto* r = Rec(s, "E-ADJUNCT");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(Contains(r->summary(), "shockwave"));
  EXPECT_EQ(r->category(), v1::CATEGORY_REFERRAL);
  EXPECT_FALSE(Fired(Screen(Rehab(65), Day(90)), "E-ADJUNCT"));  // Improved.
  // One questionnaire cannot show that rehab failed.
  EXPECT_FALSE(
      Fired(Screen({ExerciseEvent("e1", Day(0), v1::PROGRAMME_ECCENTRIC),
                    Visa("q1", Day(0), 60)},
                   Day(90)),
            "E-ADJUNCT"));
}

TEST(EAdjunctTest, PrpBeforeRehabHasFailedIsNotYet) {
  auto t = Rehab(55);
  t.push_back(Treatment("t1", Day(85), v1::TREATMENT_PRP_INJECTION));
  auto early = Screen(t, Day(89));
  const auto* r = Rec(early, "E-ADJUNCT");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(Contains(r->summary(), "not advised yet"));
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_SAFETY_SCREEN);
  EXPECT_EQ(Blocked(early, "E-ADJUNCT"), Tags{"prp"});
  auto failed = Screen(t, Day(90));
  ASSERT_TRUE(Fired(failed, "E-ADJUNCT"));
  EXPECT_TRUE(Contains(Rec(failed, "E-ADJUNCT")->summary(), "shockwave"));
  EXPECT_TRUE(Blocked(failed, "E-ADJUNCT").empty());
}

TEST(EAdjunctTest, ShockwaveBeforeRehabHasFailedKeepsLoading) {
  auto t = Rehab(55);
  t.push_back(Treatment("t1", Day(30), v1::TREATMENT_SHOCKWAVE));
  auto early = Screen(t, Day(40));
  const auto* r = Rec(early, "E-ADJUNCT");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(Contains(r->summary(), "once exercise has failed"));
  EXPECT_FALSE(Fired(Screen(Rehab(55), Day(40)), "E-ADJUNCT"));
}

TEST(EAdjunctTest, IceIsEngineAdviceNeverInsteadOfRehab) {
  EXPECT_FALSE(Fired(Screen({Note("n", Day(0))}, Day(0)), "E-ICE"));
  auto s = Screen({Treatment("t1", Day(0), v1::TREATMENT_ICE)}, Day(0));
  const auto* r = Rec(s, "E-ICE");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->id(), "engine/E-ICE");
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_ENGINE_RULE);
}

// ---- C ---------------------------------------------------------------------

TEST(PainPolicyTest, TrafficLightGreenAmberRed) {
  EXPECT_FALSE(Fired(Screen({EasedRun("r1", Day(1), 3)}, Day(1)), "C"));
  for (int amber : {4, 5}) {
    auto s = Screen({EasedRun("r1", Day(1), amber)}, Day(1));
    const auto* r = Rec(s, "C");
    ASSERT_NE(r, nullptr) << amber;
    EXPECT_EQ(r->severity(), v1::SEVERITY_INFO);
    EXPECT_EQ(r->category(), v1::CATEGORY_LOAD_MANAGEMENT);
    EXPECT_EQ(Blocked(s, "C"), (Tags{"load_increase", "progression"}));
  }
  auto red = Screen({EasedRun("r1", Day(1), 6)}, Day(1));
  const auto* r = Rec(red, "C");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->severity(), v1::SEVERITY_WARNING);
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_SAFETY_SCREEN);
  EXPECT_TRUE(Contains(r->rationale().policy(), "traffic light"));
  EXPECT_EQ(Blocked(red, "C"),
            (Tags{"load_increase", "progression", "racing", "running"}));
  EXPECT_TRUE(red.f.red_flags().empty());  // C is not a red flag.
}

TEST(PainPolicyTest, SilbernagelAtTheLimit) {
  const v1::ClinicPolicy up_to_5 = Silbernagel(false);
  EXPECT_FALSE(
      Fired(Screen({EasedRun("r1", Day(1), 5)}, Day(2), up_to_5), "C"));
  // At the limit but not settled within 24 h: amber.
  auto slow = Screen({EasedRun("r1", Day(1), 5, 30)}, Day(2), up_to_5);
  ASSERT_TRUE(Fired(slow, "C"));
  EXPECT_EQ(Rec(slow, "C")->severity(), v1::SEVERITY_INFO);
  EXPECT_TRUE(Contains(Rec(slow, "C")->rationale().policy(), "Silbernagel"));
  auto above = Screen({EasedRun("r1", Day(1), 6)}, Day(2), up_to_5);
  ASSERT_TRUE(Fired(above, "C"));
  EXPECT_EQ(Rec(above, "C")->severity(), v1::SEVERITY_WARNING);
  auto strict = Screen({EasedRun("r1", Day(1), 5)}, Day(2), Silbernagel(true));
  ASSERT_TRUE(Fired(strict, "C"));
  EXPECT_EQ(Rec(strict, "C")->severity(), v1::SEVERITY_WARNING);
}

TEST(PainPolicyTest, RedIsSilentWhenRf4AlreadyStoppedRunning) {
  auto s = Screen({PainRun(7, false)}, Day(1));
  EXPECT_TRUE(Fired(s, "RF-4"));
  EXPECT_FALSE(Fired(s, "C"));
}

TEST(PainPolicyTest, UnitCalledDirectlyHonoursStopRunning) {
  const std::vector<v1::Event> t = {EasedRun("r1", Day(1), 7)};
  const v1::ClinicPolicy policy = DefaultPolicy();
  for (bool stopped : {false, true}) {
    v1::Features f = ComputeFeatures(t, Day(1), policy);
    engine_internal::RuleContext c{t, Day(1), policy, f,
                                   engine_internal::ReadSymptoms(t)};
    c.stop_running = stopped;
    engine_internal::RuleSink sink(&f);
    engine_internal::RuleCPainPolicy(c, sink);
    EXPECT_EQ(sink.Take().recommendations.size(), stopped ? 0u : 1u)
        << "stop_running " << stopped;
  }
}

TEST(PainPolicyTest, RedAfterExerciseIsWordedAsLighterLoad) {
  v1::Event ex =
      ExerciseEvent("e1", Day(1), v1::PROGRAMME_HEAVY_SLOW_RESISTANCE, 1);
  ex.mutable_exercise_session()->mutable_response()->set_pain_after(6);
  auto s = Screen({ex}, Day(1));
  const auto* r = Rec(s, "C");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(Contains(r->summary(), "after exercise"));
  EXPECT_TRUE(std::find(r->rationale().sources().begin(),
                        r->rationale().sources().end(),
                        "BEY") != r->rationale().sources().end());
}

// ---- F-3 / INS-X / F-6 -----------------------------------------------------

Screened AtLocation(v1::Location loc,
                    const v1::ClinicPolicy& policy = DefaultPolicy()) {
  return Screen({Finding("f1", Day(0), loc)}, Day(0), policy);
}

v1::ClinicPolicy GentleStretchAllowed() {
  v1::ClinicPolicy p = DefaultPolicy();
  p.set_allow_gentle_stretch_midportion(true);
  return p;
}

TEST(LocationBlocksTest, MidportionKeepsStepDropsAndBlocksStretching) {
  auto s = AtLocation(v1::LOCATION_MIDPORTION);
  EXPECT_TRUE(Blocked(s, "F-3").empty());
  EXPECT_TRUE(Blocked(s, "INS-X1").empty());
  EXPECT_EQ(Blocked(s, "F-6"), (Tags{"aggressive_stretch", "gentle_stretch"}));
  EXPECT_EQ(Blocked(AtLocation(v1::LOCATION_MIDPORTION, GentleStretchAllowed()),
                    "F-6"),
            Tags{"aggressive_stretch"});
}

TEST(LocationBlocksTest, InsertionalAndMixedGetEveryInsertionalBlock) {
  for (v1::Location loc : {v1::LOCATION_INSERTIONAL, v1::LOCATION_MIXED}) {
    auto s = AtLocation(loc, GentleStretchAllowed());
    EXPECT_EQ(Blocked(s, "F-3"), Tags{"heel_below_step"}) << loc;
    EXPECT_EQ(Blocked(s, "INS-X1"),
              (Tags{"heel_below_step", "loaded_dorsiflexion"}));
    EXPECT_EQ(Blocked(s, "INS-X2"), Tags{"dorsiflexion_stretch"});
    EXPECT_EQ(Blocked(s, "INS-X3"), Tags{"downhill_running"});
    // The clinic's gentle-stretch setting is for mid-portion only.
    EXPECT_EQ(Blocked(s, "F-6"),
              (Tags{"aggressive_stretch", "gentle_stretch"}));
  }
}

TEST(LocationBlocksTest, UnknownOrUnrecordedIsNotMidportion) {
  for (v1::Location loc : {v1::LOCATION_UNKNOWN, v1::LOCATION_UNSPECIFIED}) {
    auto s = AtLocation(loc);
    EXPECT_EQ(Blocked(s, "F-3"), Tags{"heel_below_step"}) << loc;
    EXPECT_TRUE(Blocked(s, "INS-X1").empty());
    EXPECT_TRUE(Blocked(s, "INS-X3").empty());
  }
}

// ---- A-STAGE ---------------------------------------------------------------

TEST(StageHintTest, ReactiveHint) {
  auto reactive = [](int pain, double settle, bool stiffness) {
    std::vector<v1::Event> t = {EasedRun("r1", Day(1), pain, settle)};
    if (stiffness) {
      t.push_back(Stiffness("m1", Day(2), v1::COMPARISON_SAME));
    }
    return Screen(t, Day(2));
  };
  auto s = reactive(3, 12, true);
  const auto* r = Rec(s, "A-STAGE");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(Contains(r->summary(), "reactive"));
  EXPECT_EQ(r->category(), v1::CATEGORY_DATA_REQUEST);
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_SAFETY_SCREEN);
  EXPECT_FALSE(Fired(reactive(4, 12, true), "A-STAGE"));
  EXPECT_FALSE(Fired(reactive(3, 24, true), "A-STAGE"));
  EXPECT_FALSE(Fired(reactive(3, 12, false), "A-STAGE"));
}

TEST(StageHintTest, DegenerativeHint) {
  v1::Event nodule = MakeEvent("f1", Day(0));
  nodule.mutable_finding()->set_nodule(true);
  auto s = Screen({nodule}, Day(0));
  ASSERT_TRUE(Fired(s, "A-STAGE"));
  EXPECT_TRUE(Contains(Rec(s, "A-STAGE")->summary(), "degenerative"));
  auto lingering = Screen({EasedRun("r1", Day(1), 6, 48.5)}, Day(4));
  ASSERT_TRUE(Fired(lingering, "A-STAGE"));
  EXPECT_TRUE(Contains(Rec(lingering, "A-STAGE")->summary(), "degenerative"));
  EXPECT_FALSE(
      Fired(Screen({EasedRun("r1", Day(1), 6, 48)}, Day(4)), "A-STAGE"));
}

TEST(StageHintTest, OnlyWhileNoStageIsRecorded) {
  auto with_stage = [](v1::Stage stage) {
    v1::Event e = MakeEvent("f1", Day(0));
    e.mutable_finding()->set_nodule(true);
    e.mutable_finding()->set_stage(stage);
    return Screen({e}, Day(0));
  };
  EXPECT_FALSE(Fired(with_stage(v1::STAGE_REACTIVE), "A-STAGE"));
  EXPECT_TRUE(Fired(with_stage(v1::STAGE_UNKNOWN), "A-STAGE"));
}

// ---- T-RECENCY -------------------------------------------------------------

TEST(RecencyRuleTest, FourteenDaysIsCurrentFifteenReassesses) {
  const std::vector<v1::Event> t = {GoodRun("r1", Day(0))};
  EXPECT_FALSE(Fired(Screen(t, Day(14)), "T-RECENCY"));
  auto s = Screen(t, Day(15));
  const auto* r = Rec(s, "T-RECENCY");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->severity(), v1::SEVERITY_INFO);
  EXPECT_EQ(r->rationale().policy(), "recency window 14 days (clinic policy)");
  EXPECT_EQ(Blocked(s, "T-RECENCY"), Tags{"run_progression"});
  v1::ClinicPolicy three_weeks = DefaultPolicy();
  three_weeks.set_recency_window_days(21);
  EXPECT_FALSE(Fired(Screen(t, Day(15), three_weeks), "T-RECENCY"));
}

TEST(RecencyRuleTest, StaleExerciseBlocksExerciseProgression) {
  auto s = Screen({ExerciseEvent("e1", Day(0), v1::PROGRAMME_ECCENTRIC),
                   GoodRun("r1", Day(10))},
                  Day(15));
  // The run is current, so no reassessment card, but the old exercise
  // cannot justify exercise progression.
  EXPECT_FALSE(Fired(s, "T-RECENCY"));
  EXPECT_EQ(Blocked(s, "T-RECENCY"), Tags{"exercise_progression"});
}

// ---- D4-10PCT --------------------------------------------------------------

std::vector<v1::Event> TwoWeeks(double prior_km, double last_km) {
  return {GoodRun("a", Day(2), prior_km), GoodRun("b", Day(9), last_km)};
}

TEST(TenPercentRuleTest, TenPercentIsFineTenAndAHalfIsASpike) {
  EXPECT_FALSE(Fired(Screen(TwoWeeks(10, 11), Day(14)), "D4-10PCT"));
  auto s = Screen(TwoWeeks(10, 11.05), Day(14));
  const auto* r = Rec(s, "D4-10PCT");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->severity(), v1::SEVERITY_WARNING);
  EXPECT_TRUE(Contains(r->summary(), "at most 11.0 km"));
  EXPECT_EQ(Blocked(s, "D4-10PCT"), Tags{"load_increase"});
  EXPECT_FALSE(RedFlag(s, "D4-10PCT"));
}

TEST(TenPercentRuleTest, SilentWhenARedFlagStoppedRunning) {
  auto t = TwoWeeks(10, 20);
  t.push_back(Limp("s1", Day(10), true));
  auto s = Screen(t, Day(14));
  EXPECT_TRUE(Fired(s, "RF-6"));
  EXPECT_FALSE(Fired(s, "D4-10PCT"));
}

// ---- D4-B2B ----------------------------------------------------------------

Screened BackToBackAt(int level) {
  return Screen(
      {LadderRun("a", Day(10), level), LadderRun("b", Day(11), level)},
      Day(12));
}

TEST(BackToBackRuleTest, OnlyOnLadderLevelsOneToFour) {
  for (int level : {1, 4}) {
    auto s = BackToBackAt(level);
    const auto* r = Rec(s, "D4-B2B");
    ASSERT_NE(r, nullptr) << level;
    EXPECT_EQ(r->severity(), v1::SEVERITY_WARNING);
    EXPECT_TRUE(Contains(r->summary(), "2026-01-15/2026-01-16"));
    EXPECT_EQ(Blocked(s, "D4-B2B"), Tags{"run_progression"});
  }
  EXPECT_FALSE(Fired(BackToBackAt(5), "D4-B2B"));
  EXPECT_FALSE(Fired(BackToBackAt(0), "D4-B2B"));
  // Every other day is fine.
  EXPECT_FALSE(Fired(
      Screen({LadderRun("a", Day(9), 2), LadderRun("b", Day(11), 2)}, Day(12)),
      "D4-B2B"));
}

// ---- D4-HARD48 -------------------------------------------------------------

v1::Event HardRun(const std::string& id, int64_t at) {
  v1::Event e = GoodRun(id, at);
  e.mutable_run_session()->set_intensity(v1::INTENSITY_HARD);
  return e;
}

TEST(HardSessionsRuleTest, FortySevenHoursApartIsTooCloseFortyEightIsNot) {
  auto s = Screen(
      {HardRun("h1", Day(10)), HardRun("h2", Day(10) + 47 * kMicrosPerHour)},
      Day(13));
  ASSERT_TRUE(Fired(s, "D4-HARD48"));
  EXPECT_EQ(Rec(s, "D4-HARD48")->provenance(), v1::PROVENANCE_SAFETY_SCREEN);
  EXPECT_FALSE(
      Fired(Screen({HardRun("h1", Day(10)), HardRun("h2", Day(12))}, Day(13)),
            "D4-HARD48"));
}

// Spacing advice, not a red flag: it blocks nothing.
TEST(HardSessionsRuleTest, TheCardIsInformation) {
  auto s = Screen(
      {HardRun("h1", Day(10)), HardRun("h2", Day(10) + 47 * kMicrosPerHour)},
      Day(13));
  ASSERT_TRUE(Fired(s, "D4-HARD48"));
  EXPECT_EQ(Rec(s, "D4-HARD48")->severity(), v1::SEVERITY_INFO);
}

// ---- E-FOOTWEAR ------------------------------------------------------------

v1::Event Shoes(double drop_mm, bool minimalist = false) {
  v1::Event e = MakeEvent("w1", Day(0));
  e.mutable_footwear()->set_heel_drop_mm(drop_mm);
  e.mutable_footwear()->set_barefoot_or_minimalist(minimalist);
  return e;
}

TEST(FootwearRuleTest, RunnerBelowEightMillimetres) {
  auto s = Screen({Shoes(7.9), GoodRun("r1", Day(1))}, Day(1));
  const auto* r = Rec(s, "E-FOOTWEAR");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->id(), "engine/E-FOOTWEAR");
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_ENGINE_RULE);
  EXPECT_DOUBLE_EQ(r->prescription().shoe_drop_mm_min(), 8);
  EXPECT_FALSE(
      Fired(Screen({Shoes(8), GoodRun("r1", Day(1))}, Day(1)), "E-FOOTWEAR"));
  EXPECT_TRUE(Fired(Screen({Shoes(10, true), GoodRun("r1", Day(1))}, Day(1)),
                    "E-FOOTWEAR"));
}

TEST(FootwearRuleTest, NonRunnerGetsNothing) {
  EXPECT_FALSE(Fired(Screen({Shoes(4, true)}, Day(1)), "E-FOOTWEAR"));
  v1::Event goal = MakeEvent("g1", Day(0));
  goal.mutable_training_goal()->set_target_weekly_distance_km(20);
  EXPECT_TRUE(Fired(Screen({goal, Shoes(4)}, Day(1)), "E-FOOTWEAR"));
}

// ---- E-STRIKE --------------------------------------------------------------

v1::Event StrikeRun(const std::string& id, int64_t at, v1::FootStrike strike) {
  v1::Event e = GoodRun(id, at);
  e.mutable_run_session()->set_foot_strike(strike);
  return e;
}

TEST(FootStrikeRuleTest, LatestForefootStrike) {
  auto s = Screen({StrikeRun("r1", Day(1), v1::FOOT_STRIKE_FOREFOOT)}, Day(1));
  const auto* r = Rec(s, "E-STRIKE");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_ENGINE_RULE);
  EXPECT_EQ(r->id(), "engine/E-STRIKE");
  EXPECT_EQ(std::vector<std::string>(r->tags().begin(), r->tags().end()),
            Tags{"running"});
  EXPECT_FALSE(Fired(Screen({StrikeRun("r1", Day(1), v1::FOOT_STRIKE_FOREFOOT),
                             StrikeRun("r2", Day(2), v1::FOOT_STRIKE_MIDFOOT)},
                            Day(2)),
                     "E-STRIKE"));
}

// ---- E-KTW -----------------------------------------------------------------

Screened KneeToWall(double cm) {
  v1::Event e = MakeEvent("f1", Day(0));
  e.mutable_finding()->set_knee_to_wall_cm(cm);
  return Screen({e}, Day(0));
}

TEST(KneeToWallRuleTest, BelowTenCentimetres) {
  auto s = KneeToWall(9.9);
  const auto* r = Rec(s, "E-KTW");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_ENGINE_RULE);
  EXPECT_EQ(r->category(), v1::CATEGORY_EXERCISE);
  EXPECT_FALSE(Fired(KneeToWall(10), "E-KTW"));
}

// ---- E-POSTERIOR -----------------------------------------------------------

TEST(PosteriorChainRuleTest, OnceALocationIsRecorded) {
  const Screened s = AtLocation(v1::LOCATION_INSERTIONAL);
  const auto* r = Rec(s, "E-POSTERIOR");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_ENGINE_RULE);
  EXPECT_EQ(r->rationale().observed(0).event_ids(0), "f1");
  EXPECT_FALSE(Fired(AtLocation(v1::LOCATION_UNKNOWN), "E-POSTERIOR"));
  EXPECT_FALSE(Fired(AtLocation(v1::LOCATION_UNSPECIFIED), "E-POSTERIOR"));
}

// ---- E-EXPECT --------------------------------------------------------------

std::string ExpectSummary(v1::Location loc, v1::Stage stage) {
  v1::Event e = MakeEvent("f1", Day(0));
  e.mutable_finding()->set_location(loc);
  e.mutable_finding()->set_stage(stage);
  auto s = Screen({e}, Day(0));
  const auto* r = Rec(s, "E-EXPECT");
  if (r == nullptr) return "";
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_ENGINE_RULE);
  EXPECT_EQ(r->category(), v1::CATEGORY_EXPECTATIONS);
  return r->summary();
}

TEST(ExpectationsRuleTest, TheLongestApplicableRangeLeads) {
  const std::string mid = "3-6 months (established mid-portion";
  const std::string ins = "4-9 months";
  const std::string reactive = "4-8 weeks (reactive tendon)";
  const std::string degenerative = "6-12 months or longer (degenerative";
  struct Case {
    v1::Location loc;
    v1::Stage stage;
    std::string lead;
  };
  const Case cases[] = {
      {v1::LOCATION_MIDPORTION, v1::STAGE_UNSPECIFIED, mid},
      {v1::LOCATION_MIDPORTION, v1::STAGE_DISREPAIR, mid},
      {v1::LOCATION_MIDPORTION, v1::STAGE_REACTIVE, reactive},
      {v1::LOCATION_MIDPORTION, v1::STAGE_DEGENERATIVE, degenerative},
      {v1::LOCATION_INSERTIONAL, v1::STAGE_UNSPECIFIED, ins},
      {v1::LOCATION_INSERTIONAL, v1::STAGE_REACTIVE, ins},
      {v1::LOCATION_INSERTIONAL, v1::STAGE_DEGENERATIVE, degenerative},
      {v1::LOCATION_MIXED, v1::STAGE_UNSPECIFIED, ins},
      {v1::LOCATION_UNKNOWN, v1::STAGE_REACTIVE, reactive},
      {v1::LOCATION_UNKNOWN, v1::STAGE_DEGENERATIVE, degenerative},
  };
  for (const Case& c : cases) {
    const std::string summary = ExpectSummary(c.loc, c.stage);
    EXPECT_TRUE(Contains(summary, "Expected recovery: " + c.lead))
        << v1::Location_Name(c.loc) << " " << v1::Stage_Name(c.stage) << ": "
        << summary;
  }
}

TEST(ExpectationsRuleTest, NothingWithoutLocationOrStage) {
  EXPECT_EQ(ExpectSummary(v1::LOCATION_UNKNOWN, v1::STAGE_UNSPECIFIED), "");
  EXPECT_EQ(ExpectSummary(v1::LOCATION_UNKNOWN, v1::STAGE_UNKNOWN), "");
}

// ---- E-RACE ----------------------------------------------------------------

v1::Event RaceGoal(std::optional<int64_t> race_day) {
  v1::Event e = MakeEvent("g1", Day(0));
  e.mutable_training_goal()->set_race_planned(true);
  if (race_day) {
    *e.mutable_training_goal()->mutable_race_date() = FromMicros(*race_day);
  }
  return e;
}

v1::Event PartialTear() {
  v1::Event e = MakeEvent("f1", Day(0));
  e.mutable_finding()->set_partial_tear(true);
  return e;
}

// Settled since day 1 (good runs weekly to day 22), evaluated on day 29:
// settled for 28 days, more than the 3-week trend window.
std::vector<v1::Event> SettledRunner(v1::Event goal) {
  return {PartialTear(),         goal,
          GoodRun("a", Day(1)),  GoodRun("b", Day(8)),
          GoodRun("c", Day(15)), GoodRun("d", Day(22))};
}

TEST(RacingRuleTest, PartialTearExactlySixCalendarMonthsBeforeTheRace) {
  // Day 0 is 2026-01-05; six calendar months later is 2026-07-05.
  ASSERT_EQ(FormatDay(Day(181)), "2026-07-05");
  auto allowed = Screen(SettledRunner(RaceGoal(Day(181))), Day(29));
  const auto* r = Rec(allowed, "E-RACE");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_ENGINE_RULE);
  EXPECT_EQ(r->id(), "engine/E-RACE");
  EXPECT_TRUE(Blocked(allowed, "E-RACE").empty());

  auto too_soon = Screen(SettledRunner(RaceGoal(Day(180))), Day(29));
  r = Rec(too_soon, "E-RACE");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->severity(), v1::SEVERITY_WARNING);
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_SAFETY_SCREEN);
  EXPECT_EQ(r->id(), "safety/E-RACE");
  EXPECT_TRUE(Contains(r->summary(), "6 months of a partial tear"));
  EXPECT_EQ(Blocked(too_soon, "E-RACE"), Tags{"racing"});
}

TEST(RacingRuleTest, PermissiveCardOnceSettledForTheTrendWindow) {
  auto at = [](int64_t as_of, const v1::ClinicPolicy& policy) {
    return Screen(
        {RaceGoal(std::nullopt), GoodRun("a", Day(1)), GoodRun("b", Day(8))},
        as_of, policy);
  };
  // Settled since day 1: 20 days on day 21, 21 days (3 weeks) on day 22.
  auto early = at(Day(21), DefaultPolicy());
  const auto* r = Rec(early, "E-RACE");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_SAFETY_SCREEN);
  EXPECT_EQ(r->severity(), v1::SEVERITY_INFO);
  EXPECT_TRUE(Contains(r->detail(), "settled for 20 days"));
  EXPECT_EQ(Blocked(early, "E-RACE"), Tags{"racing"});
  auto settled = at(Day(22), DefaultPolicy());
  r = Rec(settled, "E-RACE");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->provenance(), v1::PROVENANCE_ENGINE_RULE);
  EXPECT_EQ(r->category(), v1::CATEGORY_RETURN_TO_RUN);
  EXPECT_EQ(std::vector<std::string>(r->tags().begin(), r->tags().end()),
            Tags{"racing"});
  // A two-week trend window asks for 14 days.
  v1::ClinicPolicy two_weeks = DefaultPolicy();
  two_weeks.set_trend_weeks(2);
  auto provenance = [](const Screened& s) {
    const auto* r = Rec(s, "E-RACE");
    return r == nullptr ? v1::PROVENANCE_UNSPECIFIED : r->provenance();
  };
  EXPECT_EQ(provenance(at(Day(14), two_weeks)), v1::PROVENANCE_SAFETY_SCREEN);
  EXPECT_EQ(provenance(at(Day(15), two_weeks)), v1::PROVENANCE_ENGINE_RULE);
}

TEST(RacingRuleTest, NotWhileARedFlagIsActiveOrWithoutARace) {
  auto s = Screen({RaceGoal(std::nullopt), GoodRun("a", Day(1)),
                   GoodRun("b", Day(8)), Limp("s1", Day(9), true)},
                  Day(10));
  ASSERT_TRUE(Fired(s, "E-RACE"));
  EXPECT_TRUE(Contains(Rec(s, "E-RACE")->detail(), "a red flag is active"));
  EXPECT_FALSE(Fired(Screen({GoodRun("a", Day(1))}, Day(2)), "E-RACE"));
}

// ---- DATA ------------------------------------------------------------------

TEST(DataGapsRuleTest, LocationAndTwentyFourHourResponse) {
  auto gap = [](const Screened& s, const std::string& part) {
    return std::any_of(s.r.data_gaps.begin(), s.r.data_gaps.end(),
                       [&](const std::string& g) { return Contains(g, part); });
  };
  auto thin = Screen({RunEvent("r1", Day(1), 2)}, Day(1));
  EXPECT_TRUE(gap(thin, "location"));
  EXPECT_TRUE(gap(thin, "24-hour response"));
  auto full = Screen(
      {Finding("f1", Day(0), v1::LOCATION_MIDPORTION), GoodRun("r1", Day(1))},
      Day(1));
  EXPECT_FALSE(gap(full, "location"));
  EXPECT_FALSE(gap(full, "24-hour response"));
}

// ---- Progression verdict ---------------------------------------------------

TEST(ProgressionVerdictTest, AllowedOnAGreenCurrentSession) {
  auto s = Screen({GoodRun("r1", Day(1))}, Day(2));
  EXPECT_TRUE(s.f.progression_allowed());
  EXPECT_EQ(s.f.progression_blocked_because(), "");
}

TEST(ProgressionVerdictTest, EachReasonBlocks) {
  v1::Event worse = GoodRun("r1", Day(1));
  worse.mutable_run_session()->mutable_response()->set_morning_vs_baseline(
      v1::COMPARISON_WORSE);
  auto stiff = [](const std::string& id, double day, int severity) {
    v1::Event e = Stiffness(id, Day(day), v1::COMPARISON_UNSPECIFIED);
    e.mutable_morning_stiffness()->set_severity(severity);
    return e;
  };
  struct Case {
    std::vector<v1::Event> t;
    int64_t as_of;
    std::string reason;
  };
  const Case cases[] = {
      {{GoodRun("r1", Day(1)), Limp("s1", Day(1), true)},
       Day(2),
       "red flag RF-6"},
      {{Finding("f1", Day(0), v1::LOCATION_MIDPORTION)},
       Day(1),
       "no rated session"},
      {{EasedRun("r1", Day(1), 4)}, Day(2), "pain not in the green zone"},
      {{PainRating("p1", Day(10), 1), PainRating("p2", Day(17), 2),
        SettledRun("r1", Day(24), 3, 12)},
       Day(28),
       "worsening trend"},
      {{stiff("m1", 10, 2), stiff("m2", 17, 3), stiff("m3", 24, 4),
        GoodRun("r1", Day(25))},
       Day(28),
       "morning stiffness worsening"},
      {{SettledRun("r1", Day(1), 2, 25)}, Day(3), "did not settle within 24 h"},
      {{worse}, Day(2), "next morning worse"},
      {{GoodRun("r1", Day(0))},
       Day(15),
       "latest rated session is 15 days old (recency window 14 days)"},
  };
  for (const Case& c : cases) {
    auto s = Screen(c.t, c.as_of);
    EXPECT_FALSE(s.f.progression_allowed()) << c.reason;
    EXPECT_TRUE(Contains(s.f.progression_blocked_because(), c.reason))
        << c.reason << " not in: " << s.f.progression_blocked_because();
  }
}

TEST(ProgressionVerdictTest, FourteenDayOldSessionIsStillCurrent) {
  auto s = Screen({GoodRun("r1", Day(0))}, Day(14));
  EXPECT_TRUE(s.f.progression_allowed()) << s.f.progression_blocked_because();
}

}  // namespace
}  // namespace achilles::engine
