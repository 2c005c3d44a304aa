// Red flags from how the tendon answered load: RF-4 (pain above 5/10 not
// easing with warm-up), RF-5 (over 48 h to settle after runs), RF-6
// (limping), RF-8 (24-48 h to settle or next morning worse).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine::engine_internal {

// RF-4: pain during > 5 and not easing with warm-up. Unrecorded easing
// still fires (restrictive), with lower confidence and a data request.
void RuleRf4PainNotEasing(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  const bool eased = f.last_eased_with_warmup().present() &&
                     f.last_eased_with_warmup().value() == 1;
  if (!f.last_pain_during().present() || f.last_pain_during().value() <= 5 ||
      eased) {
    return;
  }
  auto& r =
      s.Add("RF-4", v1::SEVERITY_WARNING, v1::CATEGORY_SAFETY)
          .Summary("Stop running; start structured rehab with a physio")
          .Detail(
              "Pain above 5/10 during activity that does not ease as the "
              "tendon warms up means the tendon is not coping. Stop running, "
              "start a structured rehab programme and see a physio.")
          .Explain(
              "Pain during activity above 5/10 and not easing with warm-up: "
              "stop running, structured rehab, refer to a physio.",
              "pain during > 5/10 and not easing with warm-up")
          .Source("S4")
          .Observe(absl::StrCat("pain during ", f.last_load_kind(),
                                OnDay(f.last_pain_during())),
                   Nrs(f.last_pain_during().value()), f.last_pain_during());
  if (f.last_eased_with_warmup().present()) {
    r.Observe("eased with warm-up", "no", f.last_eased_with_warmup());
  } else {
    r.Observe("eased with warm-up", "not recorded", f.last_pain_during())
        .Confidence(0.7);
    s.Gap(absl::StrCat("Whether pain eased with warm-up on the ",
                       f.last_load_kind(), OnDay(f.last_pain_during()),
                       " was not recorded."));
  }
  s.Block("RF-4", {"running", "progression", "load_increase", "racing"},
          "pain above 5/10 not easing with warm-up", {"S4"});
  c.stop_running = true;
}

// RF-5: symptoms lingering more than 48 h after runs.
void RuleRf5SlowSettle(RuleContext& c, RuleSink& s) {
  const v1::Feature& slow = c.f.runs_settle_over_48h();
  if (!slow.present()) return;
  s.Add("RF-5", v1::SEVERITY_WARNING, v1::CATEGORY_SAFETY)
      .Summary("Stop running and seek professional advice")
      .Detail(
          "Symptoms that take more than 48 hours to settle after a run mean "
          "the running load is more than the tendon can take.")
      .Explain(
          "Symptoms take more than 48 h to settle after runs: stop running, "
          "seek professional advice.",
          "settle time > 48 h")
      .Source("S4")
      .Observe("runs in a row that took over 48 h to settle",
               absl::StrFormat("%g", slow.value()), slow);
  s.Block("RF-5", {"running", "progression", "load_increase", "racing"},
          "symptoms lingering over 48 h after runs", {"S4"});
  c.stop_running = true;
}

// RF-6: limping during or after runs (latest report wins).
void RuleRf6Limping(RuleContext& c, RuleSink& s) {
  const v1::Feature& limping = c.f.limping();
  if (!limping.present()) return;
  s.Add("RF-6", v1::SEVERITY_WARNING, v1::CATEGORY_SAFETY)
      .Summary("Stop running; no racing")
      .Detail(
          "Limping during or after running means the tendon is not coping "
          "with the load.")
      .Explain("Limping during or after runs: stop running, no racing.",
               "limping reported")
      .Source("S4")
      .Observe(absl::StrCat("limping", OnDay(limping)), "yes", limping);
  s.Block("RF-6", {"running", "racing", "progression", "load_increase"},
          "limping during or after runs", {"S4"});
  c.stop_running = true;
}

namespace {

// Settled in over 24 h and up to 48 h, or over 48 h after an exercise
// session (F-2's bands; over 48 h after a run is RF-5's).
bool SlowButNotRf5(const v1::Features& f) {
  const v1::Feature& settle = f.last_settle_hours();
  return settle.present() && settle.value() > 24 &&
         (settle.value() <= 48 || f.last_load_kind() != "run");
}

}  // namespace

// RF-8: the latest session settled in over 24 h and up to 48 h (or over
// 48 h after an exercise session: RF-5 speaks only of runs, and a slower
// settle must never read as better than a 30 h one), or its next morning
// (or the latest stiffness report) was worse than usual.
void RuleRf8LoadTooHigh(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  const v1::Feature& settle = f.last_settle_hours();
  // "Reduce the next session" speaks of the last one: a response older than
  // the recency window says nothing about today (T-RECENCY says so).
  const bool current_session =
      f.last_load_event_id().empty() ||
      !IsStale(c, f.last_pain_during().present() ? f.last_pain_during()
                                                 : f.last_pain_after());
  const bool settle_24_48 = SlowButNotRf5(f) && !IsStale(c, settle);
  const bool session_worse =
      current_session && f.last_morning_vs_baseline() == v1::COMPARISON_WORSE;
  const bool worse_mornings = f.consecutive_worse_mornings().value() >= 1 &&
                              !IsStale(c, f.consecutive_worse_mornings());
  if (!settle_24_48 && !session_worse && !worse_mornings) return;
  auto& r =
      s.Add("RF-8", v1::SEVERITY_WARNING, v1::CATEGORY_LOAD_MANAGEMENT)
          .Summary(
              "Load was too high: reduce the next session or go back one "
              "level")
          .Detail(
              "The tendon took longer than a day to settle, or the next "
              "morning was worse than usual. Reduce the next session or "
              "return to the previous level before trying to progress again.")
          .Explain(
              "Settle time over 24 h and up to 48 h (any time over 24 h "
              "after exercise), or next morning worse than usual: load too "
              "high, reduce the next session or go back one level.",
              "settle time > 24 h and <= 48 h (exercise: > 24 h), or next "
              "morning WORSE")
          .Sources({"S4", "S1", "SIL"});
  if (settle_24_48) {
    r.Observe(
        absl::StrCat("settle time after ", f.last_load_kind(), OnDay(settle)),
        Hours(settle.value()), settle);
  }
  if (session_worse) {
    r.Observe(absl::StrCat("next morning after ", f.last_load_kind()),
              "worse than usual", {f.last_load_event_id()});
  }
  if (worse_mornings) {
    r.Observe("mornings in a row with stiffness worse than usual",
              absl::StrFormat("%g", f.consecutive_worse_mornings().value()),
              f.consecutive_worse_mornings());
  }
  s.Block("RF-8", {"progression", "load_increase"},
          "load too high last time: reduce or go back one level",
          {"S4", "S1", "SIL"});
}

}  // namespace achilles::engine::engine_internal
