// Rules over time: T-RECENCY (old data cannot justify progression),
// D4-10PCT (a weekly load spike over 10%, capped from the pre-spike week),
// D4-B2B (back-to-back run days early in return to run) and D4-HARD48
// (hard sessions less than 48 h apart).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine::engine_internal {
namespace {

std::string Km(double v) { return absl::StrFormat("%.1f km", v); }

// Symptom-based flags of the same severity and category come first: how
// the tendon answered outranks the load pattern that may explain it.
constexpr int kBelowSymptomFlags = -10;

bool OnEarlyLadder(const v1::Features& f) {
  return f.last_ladder_level().present() &&
         f.last_ladder_level().value() >= 1 &&
         f.last_ladder_level().value() <= 4;
}

}  // namespace

// T-RECENCY: an input older than the clinic's recency window cannot justify
// progression; the advice is to reassess and send a current report.
void RuleRecency(RuleContext& c, RuleSink& s) {
  const v1::Recency& r = c.f.recency();
  // Each kind of load holds its own progression when it is old, with or
  // without a card (a current run does not make old exercise current).
  if (r.runs_stale()) {
    s.Block("T-RECENCY", {"run_progression"},
            "the latest run is older than the recency window", {});
  }
  if (r.exercise_stale()) {
    s.Block("T-RECENCY", {"exercise_progression"},
            "the latest exercise session is older than the recency window", {});
  }
  if (r.stale_inputs().empty()) return;
  auto& rec =
      s.Add("T-RECENCY", v1::SEVERITY_INFO, v1::CATEGORY_LOAD_MANAGEMENT)
          .Priority(kBelowSymptomFlags)
          .Summary(absl::StrCat("Reassess before progressing: ",
                                r.stale_inputs(0), "; send a current report"))
          .Detail(absl::StrCat(
              "Data older than the clinic's recency window (", r.window_days(),
              " days) cannot justify moving on. Reassess the patient and "
              "record a current session with its pain and 24-hour response "
              "before any progression."))
          .Explain(
              "Advice to progress must rest on current data; older data "
              "leads to a reassessment instead.",
              absl::StrCat("input older than ", r.window_days(), " days"))
          // No source gives a window: it is a clinic-policy value awaiting
          // sign-off (docs/clinical/POLICY_SIGNOFF.md).
          .Policy(absl::StrCat("recency window ", r.window_days(),
                               " days (clinic policy)"));
  // The observation's date (and the age the engine stamps on it) is the
  // point: the value says how far past the window it is.
  auto observe = [&](const char* label, const v1::Feature& age, bool stale) {
    if (!stale) return;
    rec.Observe(label,
                absl::StrCat(age.value(), " days old, window ", r.window_days(),
                             " days"),
                age);
  };
  observe("latest run", r.last_run_age_days(), r.runs_stale());
  observe("latest exercise session", r.last_exercise_age_days(),
          r.exercise_stale());
  observe("latest pain rating", r.last_pain_age_days(), r.pain_stale());
}

// D4-10PCT: weekly running rose more than 10%; the cap for next week comes
// from the week before the spike.
void RuleTenPercent(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  if (!f.load_spike() || c.stop_running) return;
  s.Add("D4-10PCT", v1::SEVERITY_WARNING, v1::CATEGORY_LOAD_MANAGEMENT)
      .Priority(kBelowSymptomFlags)
      .Summary(absl::StrFormat(
          "Load spike: running rose %.0f%% in a week (%s -> %s); keep next "
          "week at most %s",
          f.run_km_change_pct().value(), Km(f.run_km_prior_7d().value()),
          Km(f.run_km_last_7d().value()), Km(f.run_km_cap().value())))
      .Detail(
          "Weekly mileage should rise by no more than 10%. The last week went "
          "well past that, so the cap is taken from the week before the "
          "spike, not from the spiked week.")
      .Explain("Weekly mileage increase at most 10%.",
               "last 7 days <= previous 7 days x 1.10")
      .Source("S4")
      .Observe("running in the 7 days before the spike",
               Km(f.run_km_baseline().value()), f.run_km_baseline())
      .Observe("running in the last 7 days", Km(f.run_km_last_7d().value()),
               f.run_km_last_7d())
      .Observe("week-on-week change",
               absl::StrFormat("+%.0f%%", f.run_km_change_pct().value()),
               f.run_km_change_pct());
  s.Block("D4-10PCT", {"load_increase"},
          "weekly running already rose more than 10%", {"S4"});
}

// D4-B2B: back-to-back run days while on walk-jog levels 1-4.
void RuleBackToBack(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  if (!OnEarlyLadder(f) || f.back_to_back_run_dates().empty() ||
      c.stop_running) {
    return;
  }
  const std::string dates = absl::StrJoin(f.back_to_back_run_dates(), ", ");
  s.Add("D4-B2B", v1::SEVERITY_WARNING, v1::CATEGORY_LOAD_MANAGEMENT)
      .Priority(kBelowSymptomFlags)
      .Summary(absl::StrCat("Runs on back-to-back days (", dates,
                            "): run every other day; no progression yet"))
      .Detail(
          "Early in return to running the tendon needs a day between runs. "
          "Space the walk-jog sessions every other day and repeat the level "
          "before moving on.")
      .Explain("No back-to-back run days early in return to run.",
               "runs on consecutive days while on walk-jog levels 1-4")
      .Sources({"S1", "S0"})
      .Observe("back-to-back run days", dates,
               {f.back_to_back_run_event_ids().begin(),
                f.back_to_back_run_event_ids().end()})
      .Observe("walk-jog level", absl::StrCat(f.last_ladder_level().value()),
               f.last_ladder_level());
  s.Block("D4-B2B", {"run_progression"},
          "back-to-back run days early in return to run", {"S1", "S0"});
}

// D4-HARD48: at least 48 h between hard sessions.
void RuleHardSessions(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  if (f.hard_runs_within_48h_dates().empty() || c.stop_running) return;
  const std::string dates = absl::StrJoin(f.hard_runs_within_48h_dates(), ", ");
  s.Add("D4-HARD48", v1::SEVERITY_INFO, v1::CATEGORY_LOAD_MANAGEMENT)
      .Priority(kBelowSymptomFlags)
      .Summary(absl::StrCat("Hard sessions less than 48 h apart (", dates,
                            "): leave at least 48 h between them"))
      .Detail(
          "Hard or race-pace runs load the tendon most; keep at least 48 "
          "hours between them, with easy running or rest in between.")
      .Explain("At least 48 h between hard sessions.",
               "two hard or race runs less than 48 h apart")
      .Source("S4")
      .Observe("hard sessions", dates,
               {f.hard_runs_within_48h_event_ids().begin(),
                f.hard_runs_within_48h_event_ids().end()});
}

}  // namespace achilles::engine::engine_internal
