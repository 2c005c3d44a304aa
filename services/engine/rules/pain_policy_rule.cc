// Rule C: the clinic's pain-monitoring model applied to the latest rated
// session (traffic light 3/5 by default, or Silbernagel). Red stops running
// unless a red flag already did; amber holds the level.
#include "absl/strings/str_cat.h"
#include "services/engine/features.h"
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine::engine_internal {
namespace {

bool Silbernagel(const v1::ClinicPolicy& p) {
  return p.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5;
}

void Red(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  const v1::Feature& pain = LoadPainFeature(f);
  const bool sil = Silbernagel(c.policy);
  // The traffic light is written for running (S4); after an exercise
  // session the same zones mean lighter load (BEY: more pain after training
  // means a lighter load).
  const bool after_exercise = f.last_load_kind() == "exercise";
  auto& r =
      s.Add("C", v1::SEVERITY_WARNING, v1::CATEGORY_SAFETY)
          .Summary(after_exercise
                       ? "Pain above the clinic's limit after exercise: "
                         "lighter load; no running or progression until it "
                         "settles"
                   : sil ? "Pain above the clinic's limit: stop or reduce "
                           "running"
                         : "Pain in the red zone: stop running; structured "
                           "rehab and physio")
          .Detail(absl::StrCat(
              "Under the clinic's pain model (", PainModelName(c.policy),
              ") pain of ", Nrs(pain.value()), " is above what is acceptable."))
          .Explain(sil ? "Silbernagel model: pain above the acceptable limit "
                         "means stop or reduce."
                       : "Traffic light: pain 6/10 or more means stop "
                         "running, rehab, physio.",
                   sil ? absl::StrCat("pain <= ", GreenCeiling(c.policy), "/10")
                       : "pain >= 6/10")
          .Policy(PainModelName(c.policy))
          .Observe(absl::StrCat("pain with ", f.last_load_kind(), OnDay(pain)),
                   Nrs(pain.value()), pain);
  if (after_exercise) {
    r.Sources({"S4", "BEY"});
  } else if (sil) {
    r.Sources({"SIL", "S1"});
  } else {
    r.Source("S4");
  }
  s.Block("C", {"running", "progression", "load_increase", "racing"},
          "pain above the clinic's limit", {"S4", "SIL"});
}

void Amber(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  const v1::Feature& pain = LoadPainFeature(f);
  const bool sil = Silbernagel(c.policy);
  const bool after_exercise = f.last_load_kind() == "exercise";
  auto& r =
      s.Add("C", v1::SEVERITY_INFO, v1::CATEGORY_LOAD_MANAGEMENT)
          .Summary(sil ? "Pain acceptable but the tendon did not settle: "
                         "reduce, do not progress"
                   : after_exercise
                       ? "Amber zone: hold the current exercise load; do not "
                         "progress"
                       : "Amber zone: hold the current level; cut pace and "
                         "distance")
          .Detail(absl::StrCat(
              "Under the clinic's pain model (", PainModelName(c.policy),
              ") this response ",
              sil ? "is acceptable only if it settles within 24 h, the next "
                    "morning is not worse and the trend is not worsening."
                  : "is borderline: keep the level, trim pace and distance, "
                    "and monitor."))
          .Explain(sil ? "Silbernagel model: pain up to the limit is "
                         "acceptable only if it settles within 24 h and the "
                         "next morning is not worse."
                       : "Traffic light amber (4-5/10): hold level, no "
                         "progression, cut running pace and distance.",
                   sil ? "settles <= 24 h and next morning not worse"
                       : "pain 4-5/10")
          .Policy(PainModelName(c.policy))
          .Observe(absl::StrCat("pain with ", f.last_load_kind(), OnDay(pain)),
                   Nrs(pain.value()), pain);
  if (sil) {
    r.Sources({"SIL", "S1"});
  } else {
    r.Sources({"S4", "S3"});
  }
  s.Block("C", {"progression", "load_increase"},
          "pain in the amber zone: hold level", {"S4", "S3"});
}

}  // namespace

void RuleCPainPolicy(RuleContext& c, RuleSink& s) {
  if (c.f.pain_zone() == v1::PAIN_ZONE_RED && !c.stop_running) {
    Red(c, s);
  } else if (c.f.pain_zone() == v1::PAIN_ZONE_AMBER) {
    Amber(c, s);
  }
}

}  // namespace achilles::engine::engine_internal
