// Each feature pass on its own, at its thresholds: below, at and above, and
// for "latest report wins" a yes then a no. Passes run directly over a
// TimelineView, after only the passes they read (feature_passes.h).
#include "services/engine/internal/feature_passes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/time_util.h"
#include "services/engine/engine.h"
#include "services/engine/internal/timeline_view.h"
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
using engine_internal::BuildTimelineView;
using engine_internal::FeaturePass;
using engine_internal::TimelineView;

// Runs `passes` in order over one view of `t` at `as_of`, on empty features.
v1::Features RunPasses(const std::vector<v1::Event>& t, int64_t as_of,
                       std::initializer_list<FeaturePass> passes,
                       const v1::ClinicPolicy& policy = DefaultPolicy()) {
  const TimelineView view = BuildTimelineView(t, as_of, policy);
  v1::Features f;
  for (FeaturePass pass : passes) pass(view, &f);
  return f;
}

std::vector<std::string> Ids(const v1::Feature& f) {
  return {f.event_ids().begin(), f.event_ids().end()};
}

template <typename T>
std::vector<std::string> Strings(const T& repeated) {
  return {repeated.begin(), repeated.end()};
}

v1::ClinicPolicy WithTrendWeeks(int weeks) {
  v1::ClinicPolicy p = DefaultPolicy();
  p.set_trend_weeks(weeks);
  return p;
}

v1::ClinicPolicy WithRecencyWindow(int days) {
  v1::ClinicPolicy p = DefaultPolicy();
  p.set_recency_window_days(days);
  return p;
}

v1::ClinicPolicy Silbernagel(int max_ok, bool strictly_below) {
  v1::ClinicPolicy p = DefaultPolicy();
  p.set_pain_model(v1::PAIN_MODEL_SILBERNAGEL_5);
  p.set_silbernagel_max_ok(max_ok);
  p.set_silbernagel_strictly_below(strictly_below);
  return p;
}

// ---- Pass order ------------------------------------------------------------

TEST(FeaturePassesTest, EachPassRunsAfterThePassesItReads) {
  int count = 0;
  const auto* passes = engine_internal::FeaturePasses(&count);
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.push_back(passes[i].name);
  auto at = [&](const std::string& name) {
    const auto it = std::find(names.begin(), names.end(), name);
    EXPECT_NE(it, names.end()) << name;
    return it - names.begin();
  };
  EXPECT_EQ(count, 15);
  EXPECT_LT(at("findings"), at("irritability"));
  EXPECT_LT(at("morning"), at("stiffness_trend"));
  EXPECT_LT(at("weekly_trend"), at("stiffness_trend"));
  EXPECT_LT(at("run_volume"), at("run_pattern"));
}

// ---- FindingsPass ----------------------------------------------------------

TEST(FindingsPassTest, LatestFindingWinsPerField) {
  v1::Event first = MakeEvent("f1", Day(0));
  first.mutable_finding()->set_location(v1::LOCATION_MIDPORTION);
  first.mutable_finding()->set_stage(v1::STAGE_REACTIVE);
  first.mutable_finding()->set_nodule(true);
  first.mutable_finding()->set_knee_to_wall_cm(8);
  v1::Event later = MakeEvent("f2", Day(3));
  later.mutable_finding()->set_location(v1::LOCATION_INSERTIONAL);
  later.mutable_finding()->set_nodule(false);
  auto f = RunPasses({first, later}, Day(4), {engine_internal::FindingsPass});
  EXPECT_EQ(f.location(), v1::LOCATION_INSERTIONAL);
  // Fields the later finding left unset keep the earlier value.
  EXPECT_EQ(f.stage(), v1::STAGE_REACTIVE);
  EXPECT_DOUBLE_EQ(f.knee_to_wall_cm().value(), 8);
  EXPECT_EQ(Ids(f.knee_to_wall_cm()), std::vector<std::string>{"f1"});
  ASSERT_TRUE(f.nodule().present());
  EXPECT_DOUBLE_EQ(f.nodule().value(), 0);
  EXPECT_EQ(Ids(f.nodule()), std::vector<std::string>{"f2"});
}

TEST(FindingsPassTest, TearRuledOutYesThenNo) {
  v1::Event yes = MakeEvent("f1", Day(0));
  yes.mutable_finding()->set_tear_ruled_out(true);
  v1::Event no = MakeEvent("f2", Day(1));
  no.mutable_finding()->set_tear_ruled_out(false);
  auto only_yes = RunPasses({yes}, Day(2), {engine_internal::FindingsPass});
  EXPECT_DOUBLE_EQ(only_yes.tear_ruled_out().value(), 1);
  auto f = RunPasses({yes, no}, Day(2), {engine_internal::FindingsPass});
  ASSERT_TRUE(f.tear_ruled_out().present());
  EXPECT_DOUBLE_EQ(f.tear_ruled_out().value(), 0);
}

TEST(FindingsPassTest, StageRecordedIsWhenTheLatestStageWasSet) {
  v1::Event reactive = MakeEvent("f1", Day(0));
  reactive.mutable_finding()->set_stage(v1::STAGE_REACTIVE);
  v1::Event location_only = Finding("f2", Day(2), v1::LOCATION_MIDPORTION);
  v1::Event degenerative = MakeEvent("f3", Day(5));
  degenerative.mutable_finding()->set_stage(v1::STAGE_DEGENERATIVE);

  auto f = RunPasses({reactive, location_only}, Day(6),
                     {engine_internal::FindingsPass});
  EXPECT_EQ(ToMicros(f.stage_recorded().at()), Day(0));
  EXPECT_DOUBLE_EQ(f.stage_recorded().value(), v1::STAGE_REACTIVE);

  f = RunPasses({reactive, location_only, degenerative}, Day(6),
                {engine_internal::FindingsPass});
  EXPECT_EQ(f.stage(), v1::STAGE_DEGENERATIVE);
  EXPECT_EQ(ToMicros(f.stage_recorded().at()), Day(5));
  EXPECT_DOUBLE_EQ(f.stage_recorded().value(), v1::STAGE_DEGENERATIVE);
  EXPECT_EQ(Ids(f.stage_recorded()), std::vector<std::string>{"f3"});
}

TEST(FindingsPassTest, FindingsAtOneTimeFormOneExamination) {
  std::vector<v1::Event> t = {Finding("f1", Day(1), v1::LOCATION_MIDPORTION),
                              Finding("f2", Day(1), v1::LOCATION_MIDPORTION)};
  auto f = RunPasses(t, Day(3), {engine_internal::FindingsPass});
  EXPECT_EQ(Strings(f.finding_event_ids()),
            (std::vector<std::string>{"f1", "f2"}));
  t.push_back(Finding("f3", Day(2), v1::LOCATION_INSERTIONAL));
  // A finding that sets nothing is no examination.
  t.push_back(MakeEvent("f4", Day(3)));
  t.back().mutable_finding();
  f = RunPasses(t, Day(3), {engine_internal::FindingsPass});
  EXPECT_EQ(Strings(f.finding_event_ids()), std::vector<std::string>{"f3"});
}

// ---- RecordsPass -----------------------------------------------------------

v1::Event Visa(const std::string& id, int64_t at, int score,
               v1::QuestionnaireKind kind = v1::QUESTIONNAIRE_VISA_A) {
  v1::Event e = MakeEvent(id, at);
  e.mutable_questionnaire()->set_kind(kind);
  e.mutable_questionnaire()->set_total_score(score);
  return e;
}

v1::Event Treatment(const std::string& id, int64_t at, v1::Treatment what,
                    bool planned) {
  v1::Event e = MakeEvent(id, at);
  e.mutable_treatment_request()->set_treatment(what);
  e.mutable_treatment_request()->set_planned(planned);
  return e;
}

TEST(RecordsPassTest, VisaFirstAndLatest) {
  auto f = RunPasses(
      {Visa("q1", Day(0), 40), Visa("q2", Day(10), 55), Visa("q3", Day(20), 50),
       Visa("q4", Day(25), 90, v1::QUESTIONNAIRE_KIND_UNSPECIFIED)},
      Day(30), {engine_internal::RecordsPass});
  EXPECT_DOUBLE_EQ(f.visa_a_first().value(), 40);
  EXPECT_EQ(Ids(f.visa_a_first()), std::vector<std::string>{"q1"});
  EXPECT_DOUBLE_EQ(f.visa_a_latest().value(), 50);
  EXPECT_EQ(Ids(f.visa_a_latest()), std::vector<std::string>{"q3"});
}

TEST(RecordsPassTest, TreatmentPlannedIsTwoAskedIsOne) {
  std::vector<v1::Event> t = {
      Treatment("c1", Day(0), v1::TREATMENT_CORTISONE_INJECTION, false),
      Treatment("p1", Day(1), v1::TREATMENT_PRP_INJECTION, true),
      Treatment("s1", Day(1), v1::TREATMENT_SHOCKWAVE, false),
      Treatment("i1", Day(1), v1::TREATMENT_ICE, true)};
  auto f = RunPasses(t, Day(2), {engine_internal::RecordsPass});
  EXPECT_DOUBLE_EQ(f.cortisone_requested().value(), 1);
  EXPECT_DOUBLE_EQ(f.prp_requested().value(), 2);
  EXPECT_DOUBLE_EQ(f.shockwave_requested().value(), 1);
  EXPECT_DOUBLE_EQ(f.ice_requested().value(), 2);
  // The latest request for a treatment wins.
  t.push_back(Treatment("c2", Day(2), v1::TREATMENT_CORTISONE_INJECTION, true));
  f = RunPasses(t, Day(2), {engine_internal::RecordsPass});
  EXPECT_DOUBLE_EQ(f.cortisone_requested().value(), 2);
  EXPECT_EQ(Ids(f.cortisone_requested()), std::vector<std::string>{"c2"});
}

TEST(RecordsPassTest, GoalMakesARunnerAndALaterGoalWithoutDateClearsIt) {
  v1::Event none = MakeEvent("g0", Day(0));
  none.mutable_training_goal();
  auto f = RunPasses({none}, Day(1), {engine_internal::RecordsPass});
  EXPECT_FALSE(f.is_runner());
  EXPECT_TRUE(f.race_planned().present());
  EXPECT_DOUBLE_EQ(f.race_planned().value(), 0);

  v1::Event dated = MakeEvent("g1", Day(1));
  dated.mutable_training_goal()->set_race_planned(true);
  *dated.mutable_training_goal()->mutable_race_date() = FromMicros(Day(60));
  f = RunPasses({none, dated}, Day(2), {engine_internal::RecordsPass});
  EXPECT_TRUE(f.is_runner());
  EXPECT_EQ(ToMicros(f.race_date().at()), Day(60));

  v1::Event undated = MakeEvent("g2", Day(2));
  undated.mutable_training_goal()->set_race_planned(true);
  f = RunPasses({none, dated, undated}, Day(3), {engine_internal::RecordsPass});
  EXPECT_FALSE(f.race_date().present());

  v1::Event distance = MakeEvent("g3", Day(0));
  distance.mutable_training_goal()->set_target_weekly_distance_km(20);
  f = RunPasses({distance}, Day(1), {engine_internal::RecordsPass});
  EXPECT_TRUE(f.is_runner());
  EXPECT_DOUBLE_EQ(f.target_weekly_km().value(), 20);
}

TEST(RecordsPassTest, FootwearDropAndMinimalist) {
  v1::Event high = MakeEvent("w1", Day(0));
  high.mutable_footwear()->set_heel_drop_mm(10);
  v1::Event low = MakeEvent("w2", Day(1));
  low.mutable_footwear()->set_heel_drop_mm(4);
  low.mutable_footwear()->set_barefoot_or_minimalist(true);
  auto f = RunPasses({high, low}, Day(2), {engine_internal::RecordsPass});
  EXPECT_DOUBLE_EQ(f.shoe_drop_mm().value(), 4);
  EXPECT_DOUBLE_EQ(f.barefoot_or_minimalist().value(), 1);
  v1::Event shod = MakeEvent("w3", Day(2));
  shod.mutable_footwear()->set_barefoot_or_minimalist(false);
  f = RunPasses({high, low, shod}, Day(3), {engine_internal::RecordsPass});
  EXPECT_DOUBLE_EQ(f.barefoot_or_minimalist().value(), 0);
  EXPECT_DOUBLE_EQ(f.shoe_drop_mm().value(), 4);  // w3 did not record a drop.
}

// ---- HistoryPass and LatestPainPass ----------------------------------------

TEST(HistoryPassTest, DaysOfHistoryAndOfSymptoms) {
  auto f = RunPasses({Note("n1", Day(0)), PainRating("p1", Day(4), 2)}, Day(10),
                     {engine_internal::HistoryPass});
  EXPECT_EQ(f.event_count(), 2);
  EXPECT_EQ(f.days_of_history(), 10);
  EXPECT_EQ(f.days_of_symptom_history(), 6);
}

TEST(LatestPainPassTest, HeelRaiseTestIsExercisePainAndFollowUpsAreNot) {
  v1::Event follow = FollowUp("p2", Day(2), "r1");
  follow.mutable_pain_report()->set_activity(v1::ACTIVITY_RUNNING);
  follow.mutable_pain_report()->mutable_response()->set_pain_next_morning(7);
  auto f =
      RunPasses({RunEvent("r1", Day(1), 2),
                 PainRating("p1", Day(1), 4, v1::ACTIVITY_HEEL_RAISE_TEST),
                 follow, PainRating("p3", Day(3), 1, v1::ACTIVITY_WALKING)},
                Day(4), {engine_internal::LatestPainPass});
  EXPECT_DOUBLE_EQ(f.latest_pain_exercise().value(), 4);
  EXPECT_DOUBLE_EQ(f.latest_pain_walking().value(), 1);
  EXPECT_FALSE(f.latest_pain_running().present());
}

// ---- LastLoadPass ----------------------------------------------------------

TEST(LastLoadPassTest, FollowUpMergesIntoItsSession) {
  v1::Event follow = FollowUp("p1", Day(2), "r1");
  auto* r = follow.mutable_pain_report()->mutable_response();
  r->set_pain_next_morning(3);
  r->set_settle_time_hours(20);
  r->set_morning_vs_baseline(v1::COMPARISON_SAME);
  auto f = RunPasses({RunEvent("r1", Day(1), 2), follow}, Day(3),
                     {engine_internal::LastLoadPass});
  EXPECT_EQ(f.last_load_event_id(), "r1");
  EXPECT_EQ(f.last_load_kind(), "run");
  EXPECT_EQ(Ids(f.last_pain_during()), (std::vector<std::string>{"r1", "p1"}));
  EXPECT_EQ(ToMicros(f.last_pain_during().at()), Day(1));
  EXPECT_DOUBLE_EQ(f.last_pain_next_morning().value(), 3);
  EXPECT_DOUBLE_EQ(f.last_settle_hours().value(), 20);
  EXPECT_EQ(f.last_morning_vs_baseline(), v1::COMPARISON_SAME);
  EXPECT_EQ(f.pain_zone(), v1::PAIN_ZONE_GREEN);
}

TEST(LastLoadPassTest, ASessionWithNoResponseIsSkipped) {
  v1::Event unrated = MakeEvent("r2", Day(2));
  unrated.mutable_run_session()->set_duration_minutes(20);
  auto f = RunPasses({RunEvent("r1", Day(1), 4), unrated}, Day(3),
                     {engine_internal::LastLoadPass});
  EXPECT_EQ(f.last_load_event_id(), "r1");
  EXPECT_EQ(f.pain_zone(), v1::PAIN_ZONE_AMBER);
}

TEST(LastLoadPassTest, ExerciseSessionIsKindExercise) {
  v1::Event ex =
      ExerciseEvent("e1", Day(1), v1::PROGRAMME_HEAVY_SLOW_RESISTANCE, 1);
  ex.mutable_exercise_session()->mutable_response()->set_pain_after(2);
  auto f = RunPasses({RunEvent("r1", Day(0), 2), ex}, Day(2),
                     {engine_internal::LastLoadPass});
  EXPECT_EQ(f.last_load_event_id(), "e1");
  EXPECT_EQ(f.last_load_kind(), "exercise");
}

TEST(LastLoadPassTest, TrafficLightZonesAtThreeFourFiveSix) {
  const std::pair<int, v1::PainZone> cases[] = {{3, v1::PAIN_ZONE_GREEN},
                                                {4, v1::PAIN_ZONE_AMBER},
                                                {5, v1::PAIN_ZONE_AMBER},
                                                {6, v1::PAIN_ZONE_RED}};
  for (const auto& [pain, zone] : cases) {
    auto f = RunPasses({RunEvent("r1", Day(1), pain)}, Day(1),
                       {engine_internal::LastLoadPass});
    EXPECT_EQ(f.pain_zone(), zone) << "pain " << pain;
  }
}

TEST(LastLoadPassTest, ZoneIsJudgedOnTheWorseOfDuringAndAfter) {
  v1::Event run = RunEvent("r1", Day(1), 2);
  run.mutable_run_session()->mutable_response()->set_pain_after(6);
  auto f = RunPasses({run}, Day(1), {engine_internal::LastLoadPass});
  EXPECT_EQ(f.pain_zone(), v1::PAIN_ZONE_RED);
}

TEST(LastLoadPassTest, SilbernagelAtMaxOk) {
  const auto zone = [](int pain, std::optional<double> settle,
                       const v1::ClinicPolicy& p) {
    v1::Event run = RunEvent("r1", Day(1), pain);
    if (settle) {
      run.mutable_run_session()->mutable_response()->set_settle_time_hours(
          *settle);
    }
    return RunPasses({run}, Day(2), {engine_internal::LastLoadPass}, p)
        .pain_zone();
  };
  const v1::ClinicPolicy up_to_5 = Silbernagel(5, false);
  EXPECT_EQ(zone(5, 12, up_to_5), v1::PAIN_ZONE_GREEN);
  EXPECT_EQ(zone(5, 30, up_to_5), v1::PAIN_ZONE_AMBER);  // Settled > 24 h.
  EXPECT_EQ(zone(5, std::nullopt, up_to_5), v1::PAIN_ZONE_AMBER);  // Unknown.
  EXPECT_EQ(zone(6, 12, up_to_5), v1::PAIN_ZONE_RED);
  const v1::ClinicPolicy below_5 = Silbernagel(5, true);
  EXPECT_EQ(zone(4, 12, below_5), v1::PAIN_ZONE_GREEN);
  EXPECT_EQ(zone(5, 12, below_5), v1::PAIN_ZONE_RED);
  const v1::ClinicPolicy up_to_4 = Silbernagel(4, false);
  EXPECT_EQ(zone(4, 12, up_to_4), v1::PAIN_ZONE_GREEN);
  EXPECT_EQ(zone(5, 12, up_to_4), v1::PAIN_ZONE_RED);
}

// ---- LimpingPass -----------------------------------------------------------

v1::Event LimpFlag(const std::string& id, int64_t at, bool limping) {
  v1::Event e = MakeEvent(id, at);
  e.mutable_symptom_flags()->set_limping(limping);
  return e;
}

TEST(LimpingPassTest, YesThenNoThenYes) {
  std::vector<v1::Event> t = {LimpFlag("s1", Day(1), true)};
  auto f = RunPasses(t, Day(4), {engine_internal::LimpingPass});
  EXPECT_EQ(Ids(f.limping()), std::vector<std::string>{"s1"});
  t.push_back(LimpFlag("s2", Day(2), false));
  EXPECT_FALSE(
      RunPasses(t, Day(4), {engine_internal::LimpingPass}).limping().present());
  t.push_back(LimpFlag("s3", Day(3), true));
  f = RunPasses(t, Day(4), {engine_internal::LimpingPass});
  EXPECT_EQ(Ids(f.limping()), std::vector<std::string>{"s3"});
}

TEST(LimpingPassTest, RunsAndFlagsShareOneLatestReport) {
  v1::Event limping_run = RunEvent("r1", Day(1), 2);
  limping_run.mutable_run_session()->mutable_response()->set_limping(true);
  EXPECT_FALSE(RunPasses({limping_run, LimpFlag("s1", Day(2), false)}, Day(3),
                         {engine_internal::LimpingPass})
                   .limping()
                   .present());
  v1::Event fine_run = RunEvent("r2", Day(2), 2);
  fine_run.mutable_run_session()->mutable_response()->set_limping(false);
  EXPECT_FALSE(RunPasses({LimpFlag("s1", Day(1), true), fine_run}, Day(3),
                         {engine_internal::LimpingPass})
                   .limping()
                   .present());
  // A run that says nothing about limping does not withdraw it.
  EXPECT_TRUE(
      RunPasses({LimpFlag("s1", Day(1), true), RunEvent("r3", Day(2), 2)},
                Day(3), {engine_internal::LimpingPass})
          .limping()
          .present());
}

TEST(LimpingPassTest, AFollowUpReportOfLimpingIsTheLatestReport) {
  v1::Event follow = FollowUp("p1", Day(2), "r1");
  follow.mutable_pain_report()->mutable_response()->set_limping(true);
  auto f = RunPasses(
      {RunEvent("r1", Day(1), 2), LimpFlag("s1", Day(1.5), false), follow},
      Day(3), {engine_internal::LimpingPass});
  EXPECT_TRUE(f.limping().present());
}

// ---- MorningPass -----------------------------------------------------------

TEST(MorningPassTest, SameResetsConsecutiveWorseMornings) {
  std::vector<v1::Event> t = {Stiffness("m1", Day(1), v1::COMPARISON_WORSE),
                              Stiffness("m2", Day(2), v1::COMPARISON_WORSE)};
  auto f = RunPasses(t, Day(5), {engine_internal::MorningPass});
  EXPECT_DOUBLE_EQ(f.consecutive_worse_mornings().value(), 2);
  EXPECT_EQ(Ids(f.consecutive_worse_mornings()),
            (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(ToMicros(f.morning_stiffness_reported().at()), Day(2));
  t.push_back(Stiffness("m3", Day(3), v1::COMPARISON_SAME));
  f = RunPasses(t, Day(5), {engine_internal::MorningPass});
  EXPECT_FALSE(f.consecutive_worse_mornings().present());
  t.push_back(Stiffness("m4", Day(4), v1::COMPARISON_WORSE));
  f = RunPasses(t, Day(5), {engine_internal::MorningPass});
  EXPECT_DOUBLE_EQ(f.consecutive_worse_mornings().value(), 1);
  EXPECT_EQ(Ids(f.consecutive_worse_mornings()),
            std::vector<std::string>{"m4"});
}

TEST(MorningPassTest, AReportWithoutAComparisonDoesNotReset) {
  v1::Event severity_only = Stiffness("m2", Day(2), v1::COMPARISON_UNSPECIFIED);
  severity_only.mutable_morning_stiffness()->set_severity(5);
  auto f =
      RunPasses({Stiffness("m1", Day(1), v1::COMPARISON_WORSE), severity_only,
                 Stiffness("m3", Day(3), v1::COMPARISON_WORSE)},
                Day(4), {engine_internal::MorningPass});
  EXPECT_DOUBLE_EQ(f.consecutive_worse_mornings().value(), 2);
}

TEST(MorningPassTest, ASessionsWorseNextMorningCounts) {
  v1::Event follow = FollowUp("p1", Day(2), "r1");
  follow.mutable_pain_report()->mutable_response()->set_morning_vs_baseline(
      v1::COMPARISON_WORSE);
  auto f = RunPasses({RunEvent("r1", Day(1), 2), follow,
                      Stiffness("m1", Day(3), v1::COMPARISON_WORSE)},
                     Day(4), {engine_internal::MorningPass});
  EXPECT_DOUBLE_EQ(f.consecutive_worse_mornings().value(), 2);
  EXPECT_EQ(Ids(f.consecutive_worse_mornings()),
            (std::vector<std::string>{"r1", "m1"}));
  // Only morning-stiffness reports count as "reported" (for stage hints).
  EXPECT_EQ(Ids(f.morning_stiffness_reported()),
            std::vector<std::string>{"m1"});
}

// ---- RunVolumePass ---------------------------------------------------------

TEST(RunVolumePassTest, TenPercentExactlyIsNotASpike) {
  auto f =
      RunPasses({RunEvent("a", Day(2), 1, 10), RunEvent("b", Day(9), 1, 11)},
                Day(14), {engine_internal::RunVolumePass});
  EXPECT_DOUBLE_EQ(f.run_km_change_pct().value(), 10);
  EXPECT_FALSE(f.load_spike());
  EXPECT_FALSE(f.run_km_baseline().present());
  EXPECT_FALSE(f.run_km_cap().present());
}

TEST(RunVolumePassTest, TenAndAHalfPercentIsASpikeCappedFromTheBaseline) {
  auto f =
      RunPasses({RunEvent("a", Day(2), 1, 20), RunEvent("b", Day(9), 1, 22.1)},
                Day(14), {engine_internal::RunVolumePass});
  EXPECT_NEAR(f.run_km_change_pct().value(), 10.5, 1e-9);
  EXPECT_TRUE(f.load_spike());
  EXPECT_DOUBLE_EQ(f.run_km_baseline().value(), 20);
  EXPECT_EQ(Ids(f.run_km_baseline()), std::vector<std::string>{"a"});
  EXPECT_DOUBLE_EQ(f.run_km_cap().value(), 22);  // Baseline x 1.1.
}

TEST(RunVolumePassTest, WeeksSplitAtExactlySevenDays) {
  // As of day 14: day 0 is 14 days back (outside both weeks), day 7 exactly
  // 7 days back (the prior week), one microsecond later the last week.
  auto f =
      RunPasses({RunEvent("old", Day(0), 1, 1), RunEvent("prior", Day(7), 1, 2),
                 RunEvent("last", Day(7) + 1, 1, 4)},
                Day(14), {engine_internal::RunVolumePass});
  EXPECT_DOUBLE_EQ(f.run_km_last_7d().value(), 4);
  EXPECT_EQ(Ids(f.run_km_last_7d()), std::vector<std::string>{"last"});
  EXPECT_DOUBLE_EQ(f.run_km_prior_7d().value(), 2);
  EXPECT_EQ(Ids(f.run_km_prior_7d()), std::vector<std::string>{"prior"});
  EXPECT_EQ(f.days_since_last_run().value(), 6);
}

TEST(RunVolumePassTest, NoPriorWeekNoChange) {
  auto f = RunPasses({RunEvent("a", Day(9), 1, 10)}, Day(14),
                     {engine_internal::RunVolumePass});
  EXPECT_TRUE(f.is_runner());
  EXPECT_FALSE(f.run_km_change_pct().present());
  EXPECT_FALSE(f.load_spike());
  auto none =
      RunPasses({Note("n", Day(1))}, Day(14), {engine_internal::RunVolumePass});
  EXPECT_FALSE(none.is_runner());
  EXPECT_FALSE(none.days_since_last_run().present());
}

TEST(RunVolumePassTest, SettleOverFortyEightHoursIsTheLatestUnbrokenRuns) {
  auto at48 = RunPasses({SettledRun("a", Day(1), 2, 48)}, Day(5),
                        {engine_internal::RunVolumePass});
  EXPECT_FALSE(at48.runs_settle_over_48h().present());
  auto f =
      RunPasses({SettledRun("a", Day(1), 2, 60), SettledRun("b", Day(2), 2, 30),
                 SettledRun("c", Day(3), 2, 48.5), RunEvent("d", Day(4), 2),
                 SettledRun("e", Day(5), 2, 50)},
                Day(6), {engine_internal::RunVolumePass});
  EXPECT_DOUBLE_EQ(f.runs_settle_over_48h().value(), 2);
  EXPECT_EQ(Ids(f.runs_settle_over_48h()),
            (std::vector<std::string>{"c", "e"}));
}

TEST(RunVolumePassTest, FlaresInARowSkipRunsWithoutA24HourResponse) {
  v1::Event worse = RunEvent("c", Day(3), 2);
  worse.mutable_run_session()->mutable_response()->set_morning_vs_baseline(
      v1::COMPARISON_WORSE);
  std::vector<v1::Event> t = {SettledRun("a", Day(1), 2, 30),
                              RunEvent("b", Day(2), 2), worse};
  auto f = RunPasses(t, Day(4), {engine_internal::RunVolumePass});
  EXPECT_DOUBLE_EQ(f.runs_flared_in_a_row().value(), 2);
  EXPECT_EQ(Ids(f.runs_flared_in_a_row()),
            (std::vector<std::string>{"a", "c"}));
  t.push_back(SettledRun("d", Day(4), 2, 24));
  f = RunPasses(t, Day(5), {engine_internal::RunVolumePass});
  EXPECT_FALSE(f.runs_flared_in_a_row().present());
}

TEST(RunVolumePassTest, LatestObservedFootStrikeWins) {
  auto run = [](const std::string& id, double day, v1::FootStrike s) {
    v1::Event e = RunEvent(id, Day(day), 1);
    e.mutable_run_session()->set_foot_strike(s);
    return e;
  };
  std::vector<v1::Event> t = {run("a", 1, v1::FOOT_STRIKE_FOREFOOT)};
  EXPECT_DOUBLE_EQ(RunPasses(t, Day(4), {engine_internal::RunVolumePass})
                       .forefoot_strike()
                       .value(),
                   1);
  t.push_back(run("b", 2, v1::FOOT_STRIKE_REARFOOT));
  t.push_back(run("c", 3, v1::FOOT_STRIKE_UNSPECIFIED));  // Not observed.
  auto f = RunPasses(t, Day(4), {engine_internal::RunVolumePass});
  EXPECT_DOUBLE_EQ(f.forefoot_strike().value(), 0);
  EXPECT_EQ(Ids(f.forefoot_strike()), std::vector<std::string>{"b"});
}

// ---- LadderPass ------------------------------------------------------------

v1::Event LadderRun(const std::string& id, double day, int level, int pain = 2,
                    v1::Terrain terrain = v1::TERRAIN_FLAT,
                    v1::Intensity intensity = v1::INTENSITY_EASY) {
  v1::Event e = SettledRun(id, Day(day), pain, 12);
  e.mutable_run_session()->set_ladder_level(level);
  e.mutable_run_session()->set_terrain(terrain);
  e.mutable_run_session()->set_intensity(intensity);
  return e;
}

TEST(LadderPassTest, TwoGoodSessionsAtTheLevel) {
  auto f = RunPasses({LadderRun("a", 1, 2), LadderRun("b", 3, 2)}, Day(4),
                     {engine_internal::LadderPass});
  EXPECT_DOUBLE_EQ(f.last_ladder_level().value(), 2);
  EXPECT_DOUBLE_EQ(f.sessions_ok_at_level().value(), 2);
  EXPECT_EQ(Ids(f.sessions_ok_at_level()),
            (std::vector<std::string>{"a", "b"}));
}

TEST(LadderPassTest, AnAmberSessionBreaksTheCount) {
  auto f = RunPasses({LadderRun("a", 1, 2), LadderRun("b", 3, 2, /*pain=*/4),
                      LadderRun("c", 5, 2)},
                     Day(6), {engine_internal::LadderPass});
  EXPECT_DOUBLE_EQ(f.sessions_ok_at_level().value(), 1);
  EXPECT_EQ(Ids(f.sessions_ok_at_level()), std::vector<std::string>{"c"});
}

TEST(LadderPassTest, ASessionWithoutA24HourResponseIsNotGood) {
  v1::Event unknown = RunEvent("b", Day(3), 2);
  unknown.mutable_run_session()->set_ladder_level(2);
  auto f = RunPasses({LadderRun("a", 1, 2), unknown}, Day(4),
                     {engine_internal::LadderPass});
  EXPECT_DOUBLE_EQ(f.sessions_ok_at_level().value(), 0);
}

// D4: pain repeatedly above policy at a level means back one level.
TEST(LadderPassTest, RunsAboveTheGreenZoneInARowAtTheLevel) {
  auto f = RunPasses({LadderRun("a", 1, 3), LadderRun("b", 3, 3, /*pain=*/4),
                      LadderRun("c", 5, 3, /*pain=*/5)},
                     Day(6), {engine_internal::LadderPass});
  EXPECT_DOUBLE_EQ(f.runs_above_green_at_level().value(), 2);
  EXPECT_EQ(Ids(f.runs_above_green_at_level()),
            (std::vector<std::string>{"b", "c"}));
  // A green run in between ends the series; so does another level.
  auto broken = RunPasses({LadderRun("b", 1, 3, 4), LadderRun("c", 3, 3, 3),
                           LadderRun("d", 5, 3, 4)},
                          Day(6), {engine_internal::LadderPass});
  EXPECT_DOUBLE_EQ(broken.runs_above_green_at_level().value(), 1);
  auto moved = RunPasses({LadderRun("b", 1, 2, 4), LadderRun("c", 3, 3, 4)},
                         Day(4), {engine_internal::LadderPass});
  EXPECT_DOUBLE_EQ(moved.runs_above_green_at_level().value(), 1);
  // Under Silbernagel up to 5, pain 4 and 5 are within policy.
  auto sil =
      RunPasses({LadderRun("b", 1, 3, 4), LadderRun("c", 3, 3, 5)}, Day(4),
                {engine_internal::LadderPass}, Silbernagel(5, false));
  EXPECT_DOUBLE_EQ(sil.runs_above_green_at_level().value(), 0);
}

TEST(LadderPassTest, MovingUpALevelStartsTheCountAgain) {
  auto f = RunPasses(
      {LadderRun("a", 1, 1), LadderRun("b", 3, 1), LadderRun("c", 5, 2)},
      Day(6), {engine_internal::LadderPass});
  EXPECT_DOUBLE_EQ(f.last_ladder_level().value(), 2);
  EXPECT_DOUBLE_EQ(f.sessions_ok_at_level().value(), 1);
  EXPECT_FALSE(f.continuous_runs_ok().present());  // Final stage is L5 only.
}

TEST(LadderPassTest, FinalStageCountsHillsAndSpeed) {
  auto f = RunPasses(
      {LadderRun("l4", 1, 4), LadderRun("flat", 3, 5),
       LadderRun("hills", 5, 5, 2, v1::TERRAIN_HILLS),
       LadderRun("fast", 7, 5, 2, v1::TERRAIN_UNDULATING, v1::INTENSITY_HARD),
       // Unlabelled running after L5 is continuous running.
       LadderRun("free", 9, 0, 2, v1::TERRAIN_DOWNHILL, v1::INTENSITY_RACE)},
      Day(10), {engine_internal::LadderPass});
  EXPECT_DOUBLE_EQ(f.last_ladder_level().value(), 5);
  EXPECT_DOUBLE_EQ(f.continuous_runs_ok().value(), 4);
  EXPECT_EQ(Ids(f.continuous_runs_ok()),
            (std::vector<std::string>{"flat", "hills", "fast", "free"}));
  // Downhill-only running is not hill training.
  EXPECT_DOUBLE_EQ(f.hill_runs_ok().value(), 2);
  EXPECT_DOUBLE_EQ(f.speed_runs_ok().value(), 2);
}

TEST(LadderPassTest, AnAmberRunEndsTheFinalStageStreak) {
  auto f = RunPasses({LadderRun("a", 1, 5, 2, v1::TERRAIN_HILLS),
                      LadderRun("b", 3, 5, /*pain=*/4),
                      LadderRun("c", 5, 5, 2, v1::TERRAIN_HILLS)},
                     Day(6), {engine_internal::LadderPass});
  EXPECT_DOUBLE_EQ(f.continuous_runs_ok().value(), 1);
  EXPECT_DOUBLE_EQ(f.hill_runs_ok().value(), 1);
  EXPECT_DOUBLE_EQ(f.speed_runs_ok().value(), 0);
}

// ---- RunPatternPass --------------------------------------------------------

v1::Features Pattern(const std::vector<v1::Event>& t, int64_t as_of,
                     const v1::ClinicPolicy& policy = DefaultPolicy()) {
  return RunPasses(
      t, as_of,
      {engine_internal::RunVolumePass, engine_internal::RunPatternPass},
      policy);
}

TEST(RunPatternPassTest, BackToBackOnlyInsideTheRecencyWindow) {
  // As of day 20 the 14-day window starts at day 6, exclusive.
  auto f =
      Pattern({RunEvent("a", Day(6), 1), RunEvent("b", Day(7), 1)}, Day(20));
  EXPECT_TRUE(f.back_to_back_run_dates().empty());
  EXPECT_DOUBLE_EQ(f.back_to_back_run_days().value(), 0);
  f = Pattern({RunEvent("a", Day(6) + 1, 1), RunEvent("b", Day(7), 1)},
              Day(20));
  EXPECT_EQ(Strings(f.back_to_back_run_dates()),
            std::vector<std::string>{"2026-01-11/2026-01-12"});
  EXPECT_EQ(Strings(f.back_to_back_run_event_ids()),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_DOUBLE_EQ(f.back_to_back_run_days().value(), 1);
}

TEST(RunPatternPassTest, ThePolicyWindowWidensTheSearch) {
  const std::vector<v1::Event> t = {RunEvent("a", Day(2), 1),
                                    RunEvent("b", Day(3), 1)};
  EXPECT_TRUE(Pattern(t, Day(20)).back_to_back_run_dates().empty());
  EXPECT_EQ(
      Strings(
          Pattern(t, Day(20), WithRecencyWindow(21)).back_to_back_run_dates()),
      std::vector<std::string>{"2026-01-07/2026-01-08"});
}

TEST(RunPatternPassTest, HardRuns47HoursApartAreTooClose48AreNot) {
  auto hard = [](const std::string& id, int64_t at, v1::Intensity i) {
    v1::Event e = RunEvent(id, at, 1);
    e.mutable_run_session()->set_intensity(i);
    return e;
  };
  auto f =
      Pattern({hard("h1", Day(10), v1::INTENSITY_HARD),
               hard("e1", Day(11), v1::INTENSITY_EASY),
               hard("h2", Day(10) + 47 * kMicrosPerHour, v1::INTENSITY_RACE)},
              Day(14));
  EXPECT_EQ(Strings(f.hard_runs_within_48h_dates()),
            std::vector<std::string>{"2026-01-15/2026-01-16"});
  EXPECT_EQ(Strings(f.hard_runs_within_48h_event_ids()),
            (std::vector<std::string>{"h1", "h2"}));
  f = Pattern({hard("h1", Day(10), v1::INTENSITY_HARD),
               hard("h2", Day(12), v1::INTENSITY_HARD)},
              Day(14));
  EXPECT_TRUE(f.hard_runs_within_48h_dates().empty());
}

TEST(RunPatternPassTest, RunsAndRestDaysInTheLastSevenDays) {
  auto f = Pattern({RunEvent("a", Day(7), 1), RunEvent("b", Day(8), 1),
                    RunEvent("c", Day(8.5), 1), RunEvent("d", Day(10), 1)},
                   Day(14));
  EXPECT_DOUBLE_EQ(f.runs_last_7d().value(), 3);
  EXPECT_DOUBLE_EQ(f.rest_days_last_7d().value(), 5);
}

// ---- ExercisePass ----------------------------------------------------------

TEST(ExercisePassTest, HsrWeekIsTheHighestWeekLogged) {
  const auto hsr = v1::PROGRAMME_HEAVY_SLOW_RESISTANCE;
  auto f = RunPasses({ExerciseEvent("w1a", Day(0), hsr, 1),
                      ExerciseEvent("w1b", Day(2), hsr, 1),
                      ExerciseEvent("w2a", Day(7), hsr, 2),
                      ExerciseEvent("w2b", Day(9), hsr, 2),
                      ExerciseEvent("w1late", Day(10), hsr, 1)},
                     Day(11), {engine_internal::ExercisePass});
  EXPECT_DOUBLE_EQ(f.hsr_last_week().value(), 2);
  EXPECT_DOUBLE_EQ(f.hsr_sessions_last_week().value(), 2);
  EXPECT_EQ(Ids(f.hsr_sessions_last_week()),
            (std::vector<std::string>{"w2a", "w2b"}));
  EXPECT_EQ(ToMicros(f.hsr_last_week().at()), Day(9));
}

TEST(ExercisePassTest, PainAfterIncreaseComparesTheLastTwoRatedSessions) {
  const auto hsr = v1::PROGRAMME_HEAVY_SLOW_RESISTANCE;
  v1::Event e1 = ExerciseEvent("e1", Day(0), hsr, 1);
  e1.mutable_exercise_session()->mutable_response()->set_pain_after(2);
  v1::Event e3 = ExerciseEvent("e3", Day(2), hsr, 1);
  e3.mutable_exercise_session()->mutable_response()->set_pain_after(5);
  auto f = RunPasses({e1, ExerciseEvent("e2", Day(1), hsr, 1), e3}, Day(3),
                     {engine_internal::ExercisePass});
  EXPECT_DOUBLE_EQ(f.pain_after_exercise_increase().value(), 3);
  EXPECT_EQ(Ids(f.pain_after_exercise_increase()),
            (std::vector<std::string>{"e1", "e3"}));
}

TEST(ExercisePassTest, IsometricHoldsCountAndChangePain) {
  v1::Event hold = ExerciseEvent("i2", Day(1), v1::PROGRAMME_UNSPECIFIED);
  hold.mutable_exercise_session()->set_exercise(
      v1::EXERCISE_ISOMETRIC_HOLD_SINGLE_LEG);
  hold.mutable_exercise_session()->mutable_response()->set_pain_before(5);
  hold.mutable_exercise_session()->mutable_response()->set_pain_after(2);
  auto f =
      RunPasses({ExerciseEvent("i1", Day(0), v1::PROGRAMME_ISOMETRIC), hold,
                 ExerciseEvent("x", Day(2), v1::PROGRAMME_ECCENTRIC)},
                Day(3), {engine_internal::ExercisePass});
  EXPECT_DOUBLE_EQ(f.isometric_sessions().value(), 2);
  EXPECT_DOUBLE_EQ(f.isometric_pain_change().value(), -3);
}

TEST(ExercisePassTest, DaysOnProgrammeFromTheFirstExerciseSession) {
  auto f = RunPasses({RunEvent("r", Day(-10), 1),
                      ExerciseEvent("e1", Day(0), v1::PROGRAMME_ECCENTRIC),
                      ExerciseEvent("e2", Day(30), v1::PROGRAMME_ECCENTRIC)},
                     Day(90), {engine_internal::ExercisePass});
  EXPECT_DOUBLE_EQ(f.days_on_programme().value(), 90);
  EXPECT_EQ(Ids(f.days_on_programme()), std::vector<std::string>{"e1"});
}

// ---- WeeklyTrendPass -------------------------------------------------------

// Daily-living ratings one per weekly window as of day 28 (windows are
// (21, 28], (14, 21], (7, 14], (0, 7]), oldest first; < 0 skips a week.
std::vector<v1::Event> WeeklyPains(std::initializer_list<int> pains) {
  std::vector<v1::Event> t;
  int week = 0;
  for (int p : pains) {
    if (p >= 0) {
      t.push_back(PainRating("p" + std::to_string(week), Day(3 + 7 * week), p));
    }
    ++week;
  }
  return t;
}

v1::Features Weekly(const std::vector<v1::Event>& t,
                    const v1::ClinicPolicy& policy = DefaultPolicy()) {
  return RunPasses(t, Day(28), {engine_internal::WeeklyTrendPass}, policy);
}

TEST(WeeklyTrendPassTest, FourWindowsEndAtAsOf) {
  auto f = Weekly({Note("n", Day(1))});
  ASSERT_EQ(f.weeks_size(), 4);
  EXPECT_EQ(ToMicros(f.weeks(0).start()), Day(0));
  EXPECT_EQ(ToMicros(f.weeks(3).end()), Day(28));
  EXPECT_FALSE(f.weeks(3).has_mean_worst_pain());
  EXPECT_EQ(f.pain_trend(), v1::TREND_UNSPECIFIED);
}

TEST(WeeklyTrendPassTest, MeanOfEachDaysWorstPain) {
  auto f = Weekly({PainRating("a", Day(24), 2), PainRating("b", Day(24.5), 6),
                   PainRating("c", Day(25), 2)});
  EXPECT_DOUBLE_EQ(f.weeks(3).mean_worst_pain(), 4);
  EXPECT_DOUBLE_EQ(f.weeks(3).mean_pain_daily_living(), 4);
  EXPECT_FALSE(f.weeks(3).has_mean_pain_running());
}

TEST(WeeklyTrendPassTest, StrictlyRisingIsWorsening) {
  auto rising = Weekly(WeeklyPains({-1, 2, 3, 4}));
  EXPECT_EQ(rising.pain_trend(), v1::TREND_WORSENING);
  EXPECT_EQ(std::vector<double>(rising.weekly_mean_pain().begin(),
                                rising.weekly_mean_pain().end()),
            (std::vector<double>{2, 3, 4}));
  EXPECT_EQ(Weekly(WeeklyPains({-1, 2, 3, 3})).pain_trend(), v1::TREND_STABLE);
  EXPECT_EQ(Weekly(WeeklyPains({-1, 4, 3, 2})).pain_trend(),
            v1::TREND_IMPROVING);
}

TEST(WeeklyTrendPassTest, TrendNeedsEveryWeekOfTheWindow) {
  auto gap = Weekly(WeeklyPains({-1, 2, -1, 4}));
  EXPECT_EQ(gap.pain_trend(), v1::TREND_STABLE);
  EXPECT_NE(gap.pain_trend_basis().find("direction not judged"),
            std::string::npos);
  EXPECT_EQ(Weekly(WeeklyPains({-1, -1, -1, 4})).pain_trend(),
            v1::TREND_UNSPECIFIED);
}

TEST(WeeklyTrendPassTest, TrendWeeksTwoThreeFourFromThePolicy) {
  const auto dip_then_rise = WeeklyPains({4, 1, 2, 3});
  EXPECT_EQ(Weekly(dip_then_rise, WithTrendWeeks(2)).pain_trend(),
            v1::TREND_WORSENING);
  EXPECT_EQ(Weekly(dip_then_rise, WithTrendWeeks(3)).pain_trend(),
            v1::TREND_WORSENING);
  auto four = Weekly(dip_then_rise, WithTrendWeeks(4));
  EXPECT_EQ(four.pain_trend(), v1::TREND_STABLE);
  EXPECT_EQ(four.weekly_mean_pain_size(), 4);

  const auto peak_then_rise = WeeklyPains({1, 4, 2, 3});
  EXPECT_EQ(Weekly(peak_then_rise, WithTrendWeeks(2)).pain_trend(),
            v1::TREND_WORSENING);
  EXPECT_EQ(Weekly(peak_then_rise, WithTrendWeeks(3)).pain_trend(),
            v1::TREND_STABLE);
  EXPECT_EQ(Weekly(WeeklyPains({1, 2, 3, 4}), WithTrendWeeks(4)).pain_trend(),
            v1::TREND_WORSENING);
}

TEST(WeeklyTrendPassTest, RunAndExerciseLoadPerWindow) {
  auto f = Weekly({RunEvent("a", Day(24), 1, 5), RunEvent("b", Day(24.5), 1, 3),
                   ExerciseEvent("e", Day(25), v1::PROGRAMME_ECCENTRIC)});
  EXPECT_DOUBLE_EQ(f.weeks(3).run_km(), 8);
  EXPECT_EQ(f.weeks(3).run_sessions(), 2);
  EXPECT_EQ(f.weeks(3).run_days(), 1);
  EXPECT_EQ(f.weeks(3).exercise_sessions(), 1);
}

// ---- StiffnessTrendPass ----------------------------------------------------

v1::Event StiffnessValues(const std::string& id, int64_t at,
                          std::optional<int> severity,
                          std::optional<int> minutes) {
  v1::Event e = Stiffness(id, at, v1::COMPARISON_UNSPECIFIED);
  if (severity) e.mutable_morning_stiffness()->set_severity(*severity);
  if (minutes) e.mutable_morning_stiffness()->set_minutes(*minutes);
  return e;
}

v1::Features StiffnessTrend(const std::vector<v1::Event>& t, int64_t as_of,
                            const v1::ClinicPolicy& policy = DefaultPolicy()) {
  return RunPasses(
      t, as_of,
      {engine_internal::MorningPass, engine_internal::WeeklyTrendPass,
       engine_internal::StiffnessTrendPass},
      policy);
}

TEST(StiffnessTrendPassTest, SeverityRisingFlatFalling) {
  auto trend = [](int a, int b, int c) {
    return StiffnessTrend({StiffnessValues("a", Day(10), a, std::nullopt),
                           StiffnessValues("b", Day(17), b, std::nullopt),
                           StiffnessValues("c", Day(24), c, std::nullopt)},
                          Day(28));
  };
  auto rising = trend(2, 3, 4);
  EXPECT_EQ(rising.stiffness_trend(), v1::TREND_WORSENING);
  EXPECT_NE(rising.stiffness_trend_basis().find("severity"), std::string::npos);
  EXPECT_EQ(trend(3, 3, 3).stiffness_trend(), v1::TREND_STABLE);
  EXPECT_EQ(trend(4, 3, 2).stiffness_trend(), v1::TREND_IMPROVING);
}

TEST(StiffnessTrendPassTest, MinutesRisingIsWorsening) {
  auto f = StiffnessTrend({StiffnessValues("a", Day(10), std::nullopt, 10),
                           StiffnessValues("b", Day(17), std::nullopt, 20),
                           StiffnessValues("c", Day(24), std::nullopt, 30)},
                          Day(28));
  EXPECT_EQ(f.stiffness_trend(), v1::TREND_WORSENING);
  EXPECT_NE(f.stiffness_trend_basis().find("duration"), std::string::npos);
}

TEST(StiffnessTrendPassTest, AWeekWithoutValuesMeansNoTrend) {
  auto f = StiffnessTrend({StiffnessValues("a", Day(10), 2, std::nullopt),
                           StiffnessValues("c", Day(24), 4, std::nullopt)},
                          Day(28));
  EXPECT_EQ(f.stiffness_trend(), v1::TREND_UNSPECIFIED);
}

TEST(StiffnessTrendPassTest, WorseMorningsSpanningFourteenDaysByDefault) {
  auto at14 = StiffnessTrend({Stiffness("a", Day(10), v1::COMPARISON_WORSE),
                              Stiffness("b", Day(24), v1::COMPARISON_WORSE)},
                             Day(25));
  EXPECT_EQ(at14.stiffness_trend(), v1::TREND_WORSENING);
  EXPECT_NE(at14.stiffness_trend_basis().find("2 reports in a row over 14"),
            std::string::npos);
  auto at13 = StiffnessTrend({Stiffness("a", Day(11), v1::COMPARISON_WORSE),
                              Stiffness("b", Day(24), v1::COMPARISON_WORSE)},
                             Day(25));
  EXPECT_EQ(at13.stiffness_trend(), v1::TREND_UNSPECIFIED);
}

// The patient's own comparisons count as a trend when they span the trend
// window's week-on-week steps: 7 x (trend_weeks - 1) days.
TEST(StiffnessTrendPassTest, WorseMorningSpanFollowsTheTrendWindow) {
  const auto seven_days =
      std::vector<v1::Event>{Stiffness("a", Day(17), v1::COMPARISON_WORSE),
                             Stiffness("b", Day(24), v1::COMPARISON_WORSE)};
  EXPECT_EQ(
      StiffnessTrend(seven_days, Day(25), WithTrendWeeks(2)).stiffness_trend(),
      v1::TREND_WORSENING);
  EXPECT_NE(
      StiffnessTrend(seven_days, Day(25), WithTrendWeeks(3)).stiffness_trend(),
      v1::TREND_WORSENING);
  const auto fourteen_days =
      std::vector<v1::Event>{Stiffness("a", Day(10), v1::COMPARISON_WORSE),
                             Stiffness("b", Day(24), v1::COMPARISON_WORSE)};
  EXPECT_NE(StiffnessTrend(fourteen_days, Day(25), WithTrendWeeks(4))
                .stiffness_trend(),
            v1::TREND_WORSENING);
  const auto twenty_one_days =
      std::vector<v1::Event>{Stiffness("a", Day(3), v1::COMPARISON_WORSE),
                             Stiffness("b", Day(24), v1::COMPARISON_WORSE)};
  EXPECT_EQ(StiffnessTrend(twenty_one_days, Day(25), WithTrendWeeks(4))
                .stiffness_trend(),
            v1::TREND_WORSENING);
}

TEST(StiffnessTrendPassTest, OldWorseMorningsAreNotTodaysTrend) {
  const auto t =
      std::vector<v1::Event>{Stiffness("a", Day(0), v1::COMPARISON_WORSE),
                             Stiffness("b", Day(14), v1::COMPARISON_WORSE)};
  EXPECT_EQ(StiffnessTrend(t, Day(28)).stiffness_trend(), v1::TREND_WORSENING);
  EXPECT_NE(StiffnessTrend(t, Day(29)).stiffness_trend(), v1::TREND_WORSENING);
}

TEST(StiffnessTrendPassTest, ASameMorningBreaksTheWorseSeries) {
  auto f = StiffnessTrend({Stiffness("a", Day(5), v1::COMPARISON_WORSE),
                           Stiffness("b", Day(12), v1::COMPARISON_SAME),
                           Stiffness("c", Day(20), v1::COMPARISON_WORSE),
                           Stiffness("d", Day(24), v1::COMPARISON_WORSE)},
                          Day(25));
  EXPECT_EQ(f.stiffness_trend(), v1::TREND_UNSPECIFIED);
}

// ---- IrritabilityPass ------------------------------------------------------

v1::Features Irritability(const std::vector<v1::Event>& t, int64_t as_of,
                          const v1::ClinicPolicy& policy = DefaultPolicy()) {
  return RunPasses(
      t, as_of,
      {engine_internal::FindingsPass, engine_internal::IrritabilityPass},
      policy);
}

v1::Event RedRun(const std::string& id, int64_t at, int pain,
                 std::optional<bool> eased) {
  v1::Event e = RunEvent(id, at, pain);
  if (eased) {
    e.mutable_run_session()->mutable_response()->set_eased_with_warmup(*eased);
  }
  return e;
}

v1::Event GoodRun(const std::string& id, int64_t at) {
  return SettledRun(id, at, 2, 12);
}

v1::Event HeelRaise(const std::string& id, int64_t at, int pain) {
  v1::Event e = MakeEvent(id, at);
  e.mutable_finding()->set_single_leg_heel_raise_pain(pain);
  return e;
}

TEST(IrritabilityPassTest, RedPainNotEasingWithWarmUpIsHigh) {
  auto f = Irritability({RedRun("r1", Day(1), 6, false)}, Day(2));
  EXPECT_EQ(f.irritability(), v1::IRRITABILITY_HIGH);
  EXPECT_EQ(Ids(f.irritability_since()), std::vector<std::string>{"r1"});
  EXPECT_EQ(ToMicros(f.irritability_since().at()), Day(1));
  auto unrecorded = Irritability({RedRun("r1", Day(1), 6, {})}, Day(2));
  EXPECT_EQ(unrecorded.irritability(), v1::IRRITABILITY_HIGH);
  EXPECT_NE(unrecorded.irritability_evidence().find("not recorded"),
            std::string::npos);
  EXPECT_EQ(
      Irritability({RedRun("r1", Day(1), 6, true)}, Day(2)).irritability(),
      v1::IRRITABILITY_SETTLING);
  EXPECT_EQ(
      Irritability({RedRun("r1", Day(1), 5, false)}, Day(2)).irritability(),
      v1::IRRITABILITY_SETTLING);
}

TEST(IrritabilityPassTest, RedZoneFollowsThePainModel) {
  const v1::ClinicPolicy up_to_5 = Silbernagel(5, false);
  EXPECT_EQ(Irritability({RedRun("r1", Day(1), 5, false)}, Day(2), up_to_5)
                .irritability(),
            v1::IRRITABILITY_SETTLING);
  EXPECT_EQ(Irritability({RedRun("r1", Day(1), 5, false)}, Day(2),
                         Silbernagel(5, true))
                .irritability(),
            v1::IRRITABILITY_HIGH);
}

TEST(IrritabilityPassTest, RedHeelRaisePainIsHigh) {
  auto f = Irritability({HeelRaise("f1", Day(1), 6)}, Day(2));
  EXPECT_EQ(f.irritability(), v1::IRRITABILITY_HIGH);
  EXPECT_EQ(Ids(f.irritability_since()), std::vector<std::string>{"f1"});
  EXPECT_EQ(Irritability({HeelRaise("f1", Day(1), 5)}, Day(2)).irritability(),
            v1::IRRITABILITY_UNSPECIFIED);
}

TEST(IrritabilityPassTest, TwoGoodSessionsSevenDaysApartAreSettled) {
  auto f = Irritability({GoodRun("a", Day(1)), GoodRun("b", Day(8))}, Day(9));
  EXPECT_EQ(f.irritability(), v1::IRRITABILITY_SETTLED);
  EXPECT_EQ(ToMicros(f.irritability_since().at()), Day(1));
  EXPECT_EQ(Ids(f.irritability_since()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Irritability({GoodRun("a", Day(2)), GoodRun("b", Day(8))}, Day(9))
                .irritability(),
            v1::IRRITABILITY_SETTLING);
  EXPECT_EQ(Irritability({GoodRun("b", Day(8))}, Day(9)).irritability(),
            v1::IRRITABILITY_SETTLING);
}

TEST(IrritabilityPassTest, AnAmberSessionRestartsTheGoodRun) {
  auto f = Irritability({GoodRun("a", Day(1)), SettledRun("b", Day(4), 4, 12),
                         GoodRun("c", Day(8))},
                        Day(9));
  EXPECT_EQ(f.irritability(), v1::IRRITABILITY_SETTLING);
}

TEST(IrritabilityPassTest, AWorseMorningPreventsSettled) {
  auto f = Irritability(
      {GoodRun("a", Day(1)), Stiffness("m", Day(4), v1::COMPARISON_WORSE),
       GoodRun("b", Day(8))},
      Day(9));
  EXPECT_EQ(f.irritability(), v1::IRRITABILITY_SETTLING);
}

TEST(IrritabilityPassTest, ALaterStageFindingRestartsTheWindow) {
  v1::Event stage = MakeEvent("f1", Day(5));
  stage.mutable_finding()->set_stage(v1::STAGE_REACTIVE);
  std::vector<v1::Event> t = {GoodRun("a", Day(1)), stage,
                              GoodRun("b", Day(8))};
  EXPECT_EQ(Irritability(t, Day(9)).irritability(), v1::IRRITABILITY_SETTLING);
  t.push_back(GoodRun("c", Day(14)));  // 6 days after b.
  EXPECT_EQ(Irritability(t, Day(15)).irritability(), v1::IRRITABILITY_SETTLING);
  t.push_back(GoodRun("d", Day(15)));  // 7 days after b.
  auto f = Irritability(t, Day(16));
  EXPECT_EQ(f.irritability(), v1::IRRITABILITY_SETTLED);
  EXPECT_EQ(ToMicros(f.irritability_since().at()), Day(8));
}

TEST(IrritabilityPassTest, LatestSessionOlderThanTheWindowIsUnspecified) {
  const std::vector<v1::Event> high = {RedRun("r1", Day(1), 6, false)};
  EXPECT_EQ(Irritability(high, Day(15)).irritability(), v1::IRRITABILITY_HIGH);
  auto stale = Irritability(high, Day(15) + 1);
  EXPECT_EQ(stale.irritability(), v1::IRRITABILITY_UNSPECIFIED);
  EXPECT_NE(stale.irritability_evidence().find("last 14 days"),
            std::string::npos);
  const std::vector<v1::Event> settled = {GoodRun("a", Day(1)),
                                          GoodRun("b", Day(8))};
  EXPECT_EQ(Irritability(settled, Day(22)).irritability(),
            v1::IRRITABILITY_SETTLED);
  EXPECT_EQ(Irritability(settled, Day(22) + 1).irritability(),
            v1::IRRITABILITY_UNSPECIFIED);
  EXPECT_EQ(
      Irritability(settled, Day(22) + 1, WithRecencyWindow(21)).irritability(),
      v1::IRRITABILITY_SETTLED);
}

// A slow 24-hour response is RF-8's business (reduce the load), not high
// irritability: it stops progression but does not by itself call for
// isometric pain relief.
TEST(IrritabilityPassTest, ABad24HourResponseAloneIsNotHigh) {
  auto f = Irritability({SettledRun("r1", Day(1), 2, 30)}, Day(3));
  EXPECT_EQ(f.irritability(), v1::IRRITABILITY_SETTLING);
}

// ---- RecencyPass -----------------------------------------------------------

v1::Features Recency(const std::vector<v1::Event>& t, int64_t as_of,
                     const v1::ClinicPolicy& policy = DefaultPolicy()) {
  return RunPasses(
      t, as_of, {engine_internal::FindingsPass, engine_internal::RecencyPass},
      policy);
}

TEST(RecencyPassTest, FourteenDaysIsCurrentFifteenIsStale) {
  const std::vector<v1::Event> t = {RunEvent("r1", Day(0), 2)};
  auto at14 = Recency(t, Day(14));
  EXPECT_EQ(at14.recency().window_days(), 14);
  EXPECT_DOUBLE_EQ(at14.recency().last_run_age_days().value(), 14);
  EXPECT_FALSE(at14.recency().runs_stale());
  EXPECT_FALSE(at14.recency().pain_stale());
  EXPECT_TRUE(at14.recency().stale_inputs().empty());
  // Age is counted in whole days.
  EXPECT_FALSE(Recency(t, Day(15) - 1).recency().runs_stale());
  auto at15 = Recency(t, Day(15));
  EXPECT_TRUE(at15.recency().runs_stale());
  EXPECT_TRUE(at15.recency().pain_stale());
  ASSERT_GE(at15.recency().stale_inputs_size(), 1);
  EXPECT_EQ(at15.recency().stale_inputs(0),
            "latest run 15 days ago (2026-01-05)");
}

TEST(RecencyPassTest, ThePolicyWindowMovesTheThreshold) {
  const std::vector<v1::Event> t = {RunEvent("r1", Day(0), 2)};
  const v1::ClinicPolicy three_weeks = WithRecencyWindow(21);
  auto at15 = Recency(t, Day(15), three_weeks);
  EXPECT_EQ(at15.recency().window_days(), 21);
  EXPECT_FALSE(at15.recency().runs_stale());
  EXPECT_FALSE(Recency(t, Day(21), three_weeks).recency().runs_stale());
  EXPECT_TRUE(Recency(t, Day(22), three_weeks).recency().runs_stale());
  EXPECT_TRUE(Recency(t, Day(8), WithRecencyWindow(7)).recency().runs_stale());
}

TEST(RecencyPassTest, EachInputIsAgedOnItsOwn) {
  auto f = Recency({ExerciseEvent("e1", Day(0), v1::PROGRAMME_ECCENTRIC),
                    Finding("f1", Day(0), v1::LOCATION_MIDPORTION),
                    RunEvent("r1", Day(10), 2)},
                   Day(16));
  EXPECT_TRUE(f.recency().exercise_stale());
  EXPECT_FALSE(f.recency().runs_stale());
  EXPECT_FALSE(f.recency().pain_stale());
  EXPECT_DOUBLE_EQ(f.recency().last_finding_age_days().value(), 16);
  // A current run keeps the evaluation as a whole current: the stale
  // exercise holds only exercise progression (the per-kind flag).
  EXPECT_EQ(f.recency().stale_inputs_size(), 0);
  auto all_old = Recency({ExerciseEvent("e1", Day(0), v1::PROGRAMME_ECCENTRIC),
                          RunEvent("r1", Day(1), 2)},
                         Day(16));
  EXPECT_EQ(all_old.recency().stale_inputs_size(), 3);  // Run, exercise, pain.
}

}  // namespace
}  // namespace achilles::engine
