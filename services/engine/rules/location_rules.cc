// Blocks that follow from where the tendon hurts (F-3, INS-X1..X3, F-6) and
// the stage hints a clinician confirms (A-STAGE).
#include "absl/strings/str_cat.h"
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine::engine_internal {
namespace {

struct StageHint {
  bool reactive = false;
  bool degenerative = false;
  bool nodule = false;
};

// S4's heuristics on the latest session: REACTIVE when it eased with
// warm-up, settled within 24 h at <= 3/10 with morning stiffness;
// DEGENERATIVE with a nodule, or > 5/10 lingering > 48 h or worsening.
StageHint ReadStageHint(const v1::Features& f, const v1::Feature& pain) {
  StageHint h;
  const v1::Feature& settle = f.last_settle_hours();
  h.reactive = f.last_eased_with_warmup().present() &&
               f.last_eased_with_warmup().value() == 1 &&
               f.morning_stiffness_reported().present() && settle.present() &&
               settle.value() < 24 && pain.present() && pain.value() <= 3;
  h.nodule = f.nodule().present() && f.nodule().value() == 1;
  const bool lingering_severe = pain.present() && pain.value() > 5 &&
                                ((settle.present() && settle.value() > 48) ||
                                 f.pain_trend() == v1::TREND_WORSENING);
  h.degenerative = h.nodule || lingering_severe;
  return h;
}

}  // namespace

// F-3 (heel below step only for a confirmed mid-portion tendon), INS-X1..X3
// (also raised here so that switching the insertional plugin off cannot
// lift them: restrictive beats permissive), F-6 (stretching).
void RuleLocationBlocks(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  if (f.location() != v1::LOCATION_MIDPORTION) {
    s.Block("F-3", {"heel_below_step"},
            "heel drops below step level are only for a confirmed "
            "mid-portion tendinopathy",
            {"S4", "S0", "S3"});
  }
  if (IsInsertional(f)) {
    s.Block("INS-X1", {"heel_below_step", "loaded_dorsiflexion"},
            "insertional tendinopathy: no heel drop below step level and no "
            "loaded dorsiflexion",
            {"S4", "JON"});
    s.Block("INS-X2", {"dorsiflexion_stretch"},
            "insertional tendinopathy: no stretching into dorsiflexion",
            {"S4"});
    s.Block("INS-X3", {"downhill_running"},
            "insertional tendinopathy: downhill running compresses the "
            "insertion",
            {"S4"});
  }
  s.Block("F-6", {"aggressive_stretch"},
          "aggressive stretching into dorsiflexion is never advised",
          {"S4", "S3"});
  if (!(c.policy.allow_gentle_stretch_midportion() &&
        f.location() == v1::LOCATION_MIDPORTION)) {
    s.Block("F-6", {"gentle_stretch"},
            "gentle stretching is off unless the clinic allows it for a "
            "mid-portion tendon",
            {"S3", "S4"});
  }
}

// A-STAGE: S4's stage hints may only suggest REACTIVE or DEGENERATIVE, for
// a clinician to confirm (F-7); only while no stage is recorded.
void RuleStageHints(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  if (f.stage() != v1::STAGE_UNSPECIFIED && f.stage() != v1::STAGE_UNKNOWN) {
    return;
  }
  const v1::Feature& pain = LoadPainFeature(f);
  const StageHint h = ReadStageHint(f, pain);
  if (!h.reactive && !h.degenerative) return;
  auto& r =
      s.Add("A-STAGE", v1::SEVERITY_INFO, v1::CATEGORY_DATA_REQUEST)
          .Summary(h.degenerative
                       ? "Symptoms fit a degenerative tendon: a clinician "
                         "should assess and record the stage"
                       : "Symptoms fit a reactive tendon: a clinician should "
                         "confirm and record the stage")
          .Detail(
              "These are heuristics only; the stage changes which protocol "
              "applies, so it is a clinician's call.")
          .Explain(h.degenerative
                       ? "Stage hints (S4): worse during runs, lingering for "
                         "days, worse week on week, above 5/10, or a nodule "
                         "suggest DEGENERATIVE."
                       : "Stage hints (S4): eases with warm-up, morning "
                         "stiffness, settles within 24 h, at most 3/10 "
                         "suggest REACTIVE.",
                   h.degenerative
                       ? "nodule, or pain > 5/10 lingering > 48 h or worsening"
                       : "eases with warm-up, morning stiffness, settles "
                         "< 24 h, pain <= 3/10")
          .Sources({"S4", "COOK"});
  if (h.nodule) r.Observe("nodule", "found", f.nodule());
  if (pain.present()) {
    r.Observe(absl::StrCat("pain with ", f.last_load_kind()), Nrs(pain.value()),
              pain);
  }
  if (f.last_settle_hours().present()) {
    r.Observe("settle time", Hours(f.last_settle_hours().value()),
              f.last_settle_hours());
  }
  if (h.reactive) {
    r.Observe("morning stiffness", "reported", f.morning_stiffness_reported());
  }
}

}  // namespace achilles::engine::engine_internal
