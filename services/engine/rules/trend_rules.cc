// Red flags judged over weeks: RF-7 (symptoms worsening week on week, from
// the weekly values of pain and morning stiffness) and RF-9 (no improvement
// after 2-3 weeks, or flares after every attempt to run).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/engine/features.h"
#include "services/engine/internal/timeline_view.h"
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine::engine_internal {
namespace {

// Weekly running load alongside the symptoms, so a clinician sees whether
// symptoms rose while load stayed the same.
std::string WeeklyLoad(const v1::Features& f) {
  std::vector<std::string> weeks;
  for (const auto& w : f.weeks()) {
    weeks.push_back(absl::StrFormat("%.1f km/%d runs/%d exercise", w.run_km(),
                                    w.run_sessions(), w.exercise_sessions()));
  }
  return absl::StrJoin(weeks, " -> ");
}

void ObserveTrend(sdk::Recommend& r, const std::string& label,
                  const std::string& value,
                  const google::protobuf::RepeatedPtrField<std::string>& ids) {
  r.Observe(label, value, {ids.begin(), ids.end()});
}

}  // namespace

// RF-7: pain or morning stiffness rising week on week over the clinic's
// trend window (2-4 weeks), whatever the load did.
void RuleRf7WorseningTrend(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  const bool pain = f.pain_trend() == v1::TREND_WORSENING;
  const bool stiffness = f.stiffness_trend() == v1::TREND_WORSENING;
  if (!pain && !stiffness) return;
  auto& r =
      s.Add("RF-7", v1::SEVERITY_WARNING, v1::CATEGORY_SAFETY)
          .Summary(
              "Pull back or stop running whatever the race calendar; step "
              "back in the plan")
          .Detail(absl::StrCat(
              pain ? "Pain has risen week on week" : "",
              pain && stiffness ? " and " : "",
              stiffness ? "morning stiffness has worsened week on week" : "",
              ". Step back a level in the plan and reduce running, even with "
              "a race coming up."))
          .Explain(
              "Weekly trend worsening (symptoms rising over 2-4 weeks while "
              "load stays the same or rises): stop or pull back running, step "
              "back in the plan.",
              absl::StrCat("weekly values rising in every one of the last ",
                           TrendWeeks(c.policy), " weeks"))
          .Sources({"S4", "S1"})
          .Policy(
              absl::StrCat("trend window ", TrendWeeks(c.policy), " weeks"));
  if (pain)
    ObserveTrend(r, "pain trend", f.pain_trend_basis(),
                 f.pain_trend_event_ids());
  if (stiffness) {
    ObserveTrend(r, "morning-stiffness trend", f.stiffness_trend_basis(),
                 f.stiffness_trend_event_ids());
  }
  r.Observe("weekly running and exercise load, oldest first", WeeklyLoad(f));
  s.Block("RF-7", {"progression", "load_increase", "racing"},
          "symptoms worsening week on week", {"S4", "S1"});
}

// RF-9: no improvement after 2-3 weeks of self-management, or repeated
// spikes after each attempt to run. "No improvement" needs something to
// improve: the latest week is above the clinic's green ceiling. 14 days is
// the lower bound of "2-3 weeks"; "repeated" is two runs in a row.
void RuleRf9NoImprovement(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  const int n = f.weekly_mean_pain_size();
  const bool no_improvement =
      f.days_of_symptom_history() >= 14 && n >= 2 &&
      f.pain_trend() != v1::TREND_IMPROVING &&
      f.weekly_mean_pain(n - 1) >= f.weekly_mean_pain(0) &&
      f.weekly_mean_pain(n - 1) > GreenCeiling(c.policy);
  const bool repeated_spikes = f.runs_flared_in_a_row().value() >= 2;
  if (!no_improvement && !repeated_spikes) return;
  auto& r =
      s.Add("RF-9", v1::SEVERITY_INFO, v1::CATEGORY_REFERRAL)
          .Summary(repeated_spikes && !no_improvement
                       ? "Refer to a sports physio: symptoms flare after each "
                         "attempt to run"
                       : "Refer to a sports physio: no improvement after 2-3 "
                         "weeks")
          .Detail(
              "Self-management is not working: symptoms have not improved, or "
              "flare up after every attempt to run.")
          .Explain(
              "No improvement after 2-3 weeks of self-management, or repeated "
              "spikes after each attempt to run: refer to a sports physio.",
              absl::StrCat("latest weekly mean pain not below the earliest "
                           "over >= 2 weeks and above ",
                           GreenCeiling(c.policy),
                           "/10; or >= 2 runs in a row that flared"))
          .Sources({"S4", "S1"});
  if (no_improvement) {
    ObserveTrend(r, "pain trend", f.pain_trend_basis(),
                 f.pain_trend_event_ids());
  }
  if (repeated_spikes) {
    r.Observe(
        "runs in a row that took over 24 h to settle or left the next "
        "morning worse",
        absl::StrFormat("%g", f.runs_flared_in_a_row().value()),
        f.runs_flared_in_a_row());
  }
}

}  // namespace achilles::engine::engine_internal
