// Red flags from reported symptoms: RF-1, RF-2, RF-3 (critical: urgent
// assessment) and RF-12 (pain spreading or sharp: back off). A later report
// of "no" withdraws an earlier "yes"; nothing expires with age alone.
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine::engine_internal {
namespace {

bool After(const v1::Event* a, const v1::Event* b) {
  if (a == nullptr || b == nullptr) return false;
  return ToMicros(a->occurred_at()) > ToMicros(b->occurred_at());
}

}  // namespace

// RF-1: a pop or snap means possible rupture until a clinician rules a tear
// out afterwards.
void RuleRf1PopOrSnap(RuleContext& c, RuleSink& s) {
  const SymptomState& sym = c.symptoms;
  if (!sym.pop.value || After(sym.tear_ruled_out_after, sym.pop.event)) return;
  auto& r =
      s.Add("RF-1", v1::SEVERITY_CRITICAL, v1::CATEGORY_SAFETY)
          .Summary(
              "Stop all loading: urgent same-day medical assessment to rule "
              "out rupture")
          .Detail(
              "A pop or snap in the tendon can mean a rupture. Stop all "
              "exercise and running until a clinician has examined the "
              "tendon today.")
          .Explain(
              "Pop or snap with sudden severe pain: stop all loading, urgent "
              "medical assessment the same day.",
              "pop or snap reported")
          .Source("S4");
  ObserveFlag(r, absl::StrCat("pop or snap", OnDay(sym.pop.event)), "reported",
              sym.pop.event);
  if (sym.sudden_pain.value) {
    ObserveFlag(r, "sudden severe pain", "reported", sym.sudden_pain.event);
  }
  s.Block("RF-1",
          {"running", "exercise", "progression", "load_increase", "racing"},
          "possible rupture: all loading stopped until assessed", {"S4"});
  c.stop_running = true;
}

// RF-2: cannot do a single-leg heel raise or push off.
void RuleRf2CannotHeelRaise(RuleContext& c, RuleSink& s) {
  const Flag& flag = c.symptoms.cannot_raise;
  if (!flag.value) return;
  auto& r =
      s.Add("RF-2", v1::SEVERITY_CRITICAL, v1::CATEGORY_SAFETY)
          .Summary(
              "Stop running: cannot do a single-leg heel raise, urgent "
              "assessment")
          .Detail(
              "Being unable to rise onto the toes of one leg or push off can "
              "mean a tear. Stop running and arrange an urgent assessment.")
          .Explain(
              "Cannot do a single-leg heel raise or push off: stop running, "
              "urgent assessment.",
              "single-leg heel raise not possible")
          .Source("S4");
  ObserveFlag(r, absl::StrCat("single-leg heel raise", OnDay(flag.event)),
              "not possible", flag.event);
  s.Block(
      "RF-2",
      {"running", "progression", "load_increase", "racing", "heavy_loading"},
      "cannot do a single-leg heel raise: urgent assessment first", {"S4"});
  c.stop_running = true;
}

// RF-3: significant swelling or bruising.
void RuleRf3Swelling(RuleContext& c, RuleSink& s) {
  const Flag& flag = c.symptoms.swelling;
  if (!flag.value) return;
  auto& r =
      s.Add("RF-3", v1::SEVERITY_CRITICAL, v1::CATEGORY_SAFETY)
          .Summary(
              "Stop running: significant swelling or bruising, urgent "
              "assessment")
          .Detail(
              "Marked swelling or bruising around the tendon needs an urgent "
              "assessment before any running.")
          .Explain(
              "Significant swelling or bruising: stop running, urgent "
              "assessment.",
              "significant swelling or bruising reported")
          .Source("S4");
  ObserveFlag(r, absl::StrCat("swelling or bruising", OnDay(flag.event)),
              "significant", flag.event);
  s.Block("RF-3", {"running", "progression", "load_increase", "racing"},
          "significant swelling or bruising: urgent assessment first", {"S4"});
  c.stop_running = true;
}

// RF-12: pain spreading into heel or midfoot, or sharp persistent pain.
void RuleRf12SpreadingPain(RuleContext& c, RuleSink& s) {
  const SymptomState& sym = c.symptoms;
  if (!sym.spreads.value && !sym.sharp.value) return;
  auto& r =
      s.Add("RF-12", v1::SEVERITY_INFO, v1::CATEGORY_LOAD_MANAGEMENT)
          .Summary("Do not push through: return to a lower load")
          .Detail(
              "Pain spreading into the heel or midfoot, or sharp persistent "
              "pain, is a sign to back off rather than push through.")
          .Explain(
              "Pain spreads into the heel or midfoot, or sharp persistent "
              "pain: do not push through, return to lower load.",
              "pain spreading or sharp persistent pain reported")
          .Source("S0");
  if (sym.spreads.value) {
    ObserveFlag(r, "pain spreads into heel or midfoot", "reported",
                sym.spreads.event);
  }
  if (sym.sharp.value) {
    ObserveFlag(r, "sharp persistent pain", "reported", sym.sharp.event);
  }
  s.Block("RF-12", {"progression", "load_increase"},
          "pain spreading or sharp: lower load", {"S0"});
}

}  // namespace achilles::engine::engine_internal
