// Every numeric threshold of the safety screen and the pain policy, just
// below, at and just above it, in one table (docs/clinical/RULES.md gives
// each boundary: "> 5/10", "> 24 h and <= 48 h", "> 48 h", "0-3 / 4-5 /
// 6+", the Silbernagel limit with and without "strictly below", "> 10%",
// "< 48 h apart", "< 10 cm", "< 8 mm"). A row names the rule and whether
// its card is expected, and with what severity; the settle-time rows also
// pin which rule owns each band for runs and for exercise sessions.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "common/time_util.h"
#include "services/engine/engine.h"
#include "services/engine/features.h"
#include "services/engine/rules/rules.h"
#include "tests/common/events.h"

namespace achilles::engine {
namespace {

using ::achilles::testing::Day;
using ::achilles::testing::ExerciseEvent;
using ::achilles::testing::MakeEvent;
using ::achilles::testing::RunEvent;
using ::achilles::testing::SettledRun;

constexpr v1::Severity kNone = v1::SEVERITY_UNSPECIFIED;

// The severity of the first card of `rule_id`, or kNone when it did not
// fire.
v1::Severity CardSeverity(const std::vector<v1::Event>& t, int64_t as_of,
                          const v1::ClinicPolicy& policy,
                          const std::string& rule_id) {
  v1::Features f = ComputeFeatures(t, as_of, policy);
  const ScreenResult r = RunBuiltInRules(t, as_of, policy, &f);
  for (const auto& rec : r.recommendations) {
    if (rec.rationale().rule_id() == rule_id) return rec.severity();
  }
  return kNone;
}

v1::Event RatedRun(int pain_during, std::optional<bool> eased,
                   double settle_hours = 12) {
  v1::Event e = SettledRun("r1", Day(1), pain_during, settle_hours);
  if (eased) {
    e.mutable_run_session()->mutable_response()->set_eased_with_warmup(*eased);
  }
  return e;
}

// An HSR session rated `pain_after`, eased with warm-up, with a settle time.
v1::Event Hsr(int pain_after, double settle_hours) {
  v1::Event e =
      ExerciseEvent("x1", Day(1), v1::PROGRAMME_HEAVY_SLOW_RESISTANCE, 2);
  auto* r = e.mutable_exercise_session()->mutable_response();
  r->set_pain_after(pain_after);
  r->set_eased_with_warmup(true);
  r->set_settle_time_hours(settle_hours);
  return e;
}

v1::Event HsrDuring(int pain_during, bool eased) {
  v1::Event e = Hsr(2, 12);
  auto* r = e.mutable_exercise_session()->mutable_response();
  r->set_pain_during(pain_during);
  r->set_eased_with_warmup(eased);
  return e;
}

v1::Event KmRun(const std::string& id, double day, double km) {
  return SettledRun(id, Day(day), 2, 12, km);
}

v1::Event HardRun(const std::string& id, int64_t at) {
  v1::Event e = SettledRun(id, at, 2, 12);
  e.mutable_run_session()->set_intensity(v1::INTENSITY_HARD);
  return e;
}

v1::Event KneeToWall(double cm) {
  v1::Event e = MakeEvent("f1", Day(0));
  e.mutable_finding()->set_knee_to_wall_cm(cm);
  return e;
}

v1::Event Shoes(double drop_mm) {
  v1::Event e = MakeEvent("w1", Day(0));
  e.mutable_footwear()->set_heel_drop_mm(drop_mm);
  return e;
}

v1::ClinicPolicy Silbernagel(bool strictly_below) {
  v1::ClinicPolicy p = DefaultPolicy();
  p.set_pain_model(v1::PAIN_MODEL_SILBERNAGEL_5);
  p.set_silbernagel_max_ok(5);
  p.set_silbernagel_strictly_below(strictly_below);
  return p;
}

struct Row {
  const char* name;
  std::vector<v1::Event> timeline;
  double as_of_day;
  v1::ClinicPolicy policy;
  const char* rule_id;
  v1::Severity expect;
};

std::vector<Row> Rows() {
  const v1::ClinicPolicy tl = DefaultPolicy();
  const v1::ClinicPolicy sil = Silbernagel(false);
  const v1::ClinicPolicy strict = Silbernagel(true);
  constexpr auto kW = v1::SEVERITY_WARNING;
  constexpr auto kI = v1::SEVERITY_INFO;
  const int64_t h1 = Day(10);
  return {
      // RF-4: pain during > 5/10 and not easing with warm-up.
      {"RF-4 run 5 not easing", {RatedRun(5, false)}, 2, tl, "RF-4", kNone},
      {"RF-4 run 6 not easing", {RatedRun(6, false)}, 2, tl, "RF-4", kW},
      {"RF-4 run 6 easing", {RatedRun(6, true)}, 2, tl, "RF-4", kNone},
      {"RF-4 run 6 easing unrecorded", {RatedRun(6, {})}, 2, tl, "RF-4", kW},
      {"RF-4 exercise 6 not easing", {HsrDuring(6, false)}, 2, tl, "RF-4", kW},
      // RF-5: settle > 48 h after runs.
      {"RF-5 run 48 h", {RatedRun(2, true, 48)}, 4, tl, "RF-5", kNone},
      {"RF-5 run 48.5 h", {RatedRun(2, true, 48.5)}, 4, tl, "RF-5", kW},
      {"RF-5 exercise 60 h", {Hsr(2, 60)}, 4, tl, "RF-5", kNone},
      // RF-8: settle > 24 h and <= 48 h; over 48 h after exercise (RF-5
      // owns runs over 48 h).
      {"RF-8 run 24 h", {RatedRun(2, true, 24)}, 4, tl, "RF-8", kNone},
      {"RF-8 run 24.5 h", {RatedRun(2, true, 24.5)}, 4, tl, "RF-8", kW},
      {"RF-8 run 48 h", {RatedRun(2, true, 48)}, 4, tl, "RF-8", kW},
      {"RF-8 run 48.5 h", {RatedRun(2, true, 48.5)}, 4, tl, "RF-8", kNone},
      {"RF-8 exercise 24 h", {Hsr(2, 24)}, 4, tl, "RF-8", kNone},
      {"RF-8 exercise 24.5 h", {Hsr(2, 24.5)}, 4, tl, "RF-8", kW},
      {"RF-8 exercise 48 h", {Hsr(2, 48)}, 4, tl, "RF-8", kW},
      {"RF-8 exercise 48.5 h", {Hsr(2, 48.5)}, 4, tl, "RF-8", kW},
      {"RF-8 exercise 72 h", {Hsr(2, 72)}, 4, tl, "RF-8", kW},
      // C, traffic light: 0-3 green, 4-5 amber (info), 6+ red (warning).
      {"C TL 3", {RatedRun(3, true)}, 2, tl, "C", kNone},
      {"C TL 4", {RatedRun(4, true)}, 2, tl, "C", kI},
      {"C TL 5", {RatedRun(5, true)}, 2, tl, "C", kI},
      {"C TL 6", {RatedRun(6, true)}, 2, tl, "C", kW},
      {"C TL exercise 6 after", {Hsr(6, 12)}, 2, tl, "C", kW},
      // C, Silbernagel up to 5: green only with a good 24 h response.
      {"C SIL 5 settled", {RatedRun(5, true, 24)}, 2, sil, "C", kNone},
      {"C SIL 5 settle 24.5 h", {RatedRun(5, true, 24.5)}, 3, sil, "C", kI},
      {"C SIL 6", {RatedRun(6, true)}, 2, sil, "C", kW},
      // C, Silbernagel strictly below 5.
      {"C SIL< 4", {RatedRun(4, true)}, 2, strict, "C", kNone},
      {"C SIL< 5", {RatedRun(5, true)}, 2, strict, "C", kW},
      // D4-10PCT: more than 10% over the previous 7 days.
      {"10% exactly",
       {KmRun("a", 2, 10), KmRun("b", 9, 11)},
       14,
       tl,
       "D4-10PCT",
       kNone},
      {"10.5%",
       {KmRun("a", 2, 10), KmRun("b", 9, 11.05)},
       14,
       tl,
       "D4-10PCT",
       kW},
      // D4-HARD48: hard runs less than 48 h apart.
      {"hard 48 h apart",
       {HardRun("h1", h1), HardRun("h2", h1 + 48 * kMicrosPerHour)},
       13,
       tl,
       "D4-HARD48",
       kNone},
      {"hard 47 h apart",
       {HardRun("h1", h1), HardRun("h2", h1 + 47 * kMicrosPerHour)},
       13,
       tl,
       "D4-HARD48",
       kI},
      // E-KTW: knee-to-wall under 10 cm.
      {"KTW 10 cm", {KneeToWall(10)}, 0, tl, "E-KTW", kNone},
      {"KTW 9.9 cm", {KneeToWall(9.9)}, 0, tl, "E-KTW", kI},
      // E-FOOTWEAR: a runner in shoes under 8 mm drop.
      {"drop 8 mm", {Shoes(8), KmRun("r1", 1, 5)}, 1, tl, "E-FOOTWEAR", kNone},
      {"drop 7.9 mm", {Shoes(7.9), KmRun("r1", 1, 5)}, 1, tl, "E-FOOTWEAR", kI},
  };
}

TEST(SafetyBoundariesTest, EachThresholdJustBelowAtAndAbove) {
  for (const Row& row : Rows()) {
    EXPECT_EQ(
        CardSeverity(row.timeline, Day(row.as_of_day), row.policy, row.rule_id),
        row.expect)
        << row.name;
  }
}

// The settle-time bands are monotone: however long a session took to
// settle beyond 24 h, some warning or critical red flag asks for less load.
TEST(SafetyBoundariesTest, LongerSettlingNeverLooksBetter) {
  for (bool run : {true, false}) {
    for (double hours : {24.5, 36.0, 48.0, 48.5, 60.0, 96.0}) {
      const std::vector<v1::Event> t = {run ? RatedRun(2, true, hours)
                                            : Hsr(2, hours)};
      v1::Features f = ComputeFeatures(t, Day(5), DefaultPolicy());
      RunBuiltInRules(t, Day(5), DefaultPolicy(), &f);
      EXPECT_GE(f.worst_red_flag(), v1::SEVERITY_WARNING)
          << (run ? "run " : "exercise ") << hours << " h";
      EXPECT_FALSE(f.progression_allowed()) << hours;
    }
  }
}

}  // namespace
}  // namespace achilles::engine
