// Tear status and treatments: RF-10 (tear not ruled out: running cannot be
// called safe), RF-11 (cortisone caution) and E-ADJUNCT (shockwave and PRP
// only once exercise has failed; ice never replaces rehab).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine::engine_internal {
namespace {

// PRP only after 3-6 months of failed rehab (S4): the lower bound, in days.
constexpr int kFailedRehabDays = 90;

bool ExerciseFailed(const v1::Features& f) {
  return f.days_on_programme().present() &&
         f.days_on_programme().value() >= kFailedRehabDays &&
         f.visa_a_latest().present() && f.visa_a_first().present() &&
         f.visa_a_latest().value() <= f.visa_a_first().value() &&
         f.visa_a_latest().event_ids(0) != f.visa_a_first().event_ids(0);
}

void SpecialistDiscussion(const RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  auto& r =
      s.Add("E-ADJUNCT", v1::SEVERITY_INFO, v1::CATEGORY_REFERRAL)
          .Summary(
              "Discuss shockwave (ESWT) or PRP with a specialist: exercise "
              "has not helped after 3+ months")
          .Detail(
              "For chronic tendinopathy where adherent exercise has failed, "
              "shockwave therapy can be considered; PRP has mixed evidence "
              "and only comes after 3-6 months of failed rehab.")
          .Explain(
              "ESWT when chronic and exercise failed; PRP only after 3-6 "
              "months of failed rehab.",
              ">= 3 months of loading and VISA-A not improved")
          .Source("S4")
          .Observe("days since loading started",
                   absl::StrFormat("%g", f.days_on_programme().value()),
                   f.days_on_programme())
          .Observe("VISA-A first -> latest",
                   absl::StrFormat("%g -> %g", f.visa_a_first().value(),
                                   f.visa_a_latest().value()),
                   f.visa_a_latest());
  if (f.stage() == v1::STAGE_DEGENERATIVE) {
    r.Observe("stage", "degenerative", f.stage_recorded());
  }
}

void PrpTooEarly(const RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  s.Add("E-ADJUNCT", v1::SEVERITY_INFO, v1::CATEGORY_REFERRAL)
      .Summary("PRP is not advised yet: only after 3-6 months of failed rehab")
      .Detail(
          "PRP injections have mixed evidence and are only considered after "
          "3-6 months of adherent rehab that has not helped.")
      .Explain("PRP only after 3-6 months of failed rehab.",
               "< 3 months of loading, or VISA-A improving")
      .Source("S4")
      .Observe("PRP injection asked about or planned", "yes", f.prp_requested())
      .Observe("days since loading started",
               f.days_on_programme().present()
                   ? absl::StrFormat("%g", f.days_on_programme().value())
                   : "no exercise session recorded",
               f.days_on_programme());
  s.Block("E-ADJUNCT", {"prp"}, "PRP only after 3-6 months of failed rehab",
          {"S4"});
}

void IceCaution(const RuleContext& c, RuleSink& s) {
  s.Add("E-ICE", v1::SEVERITY_INFO, v1::CATEGORY_LOAD_MANAGEMENT,
        v1::PROVENANCE_ENGINE_RULE)
      .Summary("Ice may ease pain, but it never replaces loading rehab")
      .Detail(
          "Ice can be used for short-term pain relief; the tendon recovers "
          "through progressive loading, which ice does not replace.")
      .Explain("Ice never replaces rehab.", "ice asked about or planned")
      .Source("S2")
      .Observe("ice asked about or planned", "yes", c.f.ice_requested());
}

void ShockwaveNotYet(const RuleContext& c, RuleSink& s) {
  s.Add("E-ADJUNCT", v1::SEVERITY_INFO, v1::CATEGORY_REFERRAL)
      .Summary(
          "Shockwave (ESWT) is for chronic tendinopathy once exercise has "
          "failed; keep loading for now")
      .Detail(
          "Shockwave therapy is considered when the tendon is chronic and "
          "adherent exercise has not helped; until then the loading "
          "programme is the treatment.")
      .Explain("ESWT when chronic and exercise failed.",
               "< 3 months of loading, or VISA-A improving")
      .Source("S4")
      .Observe("shockwave asked about or planned", "yes",
               c.f.shockwave_requested());
}

}  // namespace

// RF-10: a tear not yet ruled out blocks "safe to continue running".
void RuleRf10TearNotRuledOut(RuleContext& c, RuleSink& s) {
  const v1::Feature& tear = c.f.tear_ruled_out();
  if (tear.present() && tear.value() == 0) {
    s.Add("RF-10", v1::SEVERITY_WARNING, v1::CATEGORY_SAFETY)
        .Summary(
            "Running cannot be marked safe: partial tear or rupture not yet "
            "ruled out")
        .Detail(
            "Until a tear has been ruled out, no advice may call running safe "
            "to continue.")
        .Explain(
            "Partial tear or rupture not yet ruled out: running may not be "
            "marked safe to continue.",
            "tear_ruled_out = false")
        .Source("S4")
        .Observe(absl::StrCat("tear ruled out", OnDay(tear)), "no", tear);
  }
  if (tear.present() && tear.value() == 1) return;
  s.Block("RF-10", {"safe_to_continue_running"},
          "a tear has not been ruled out", {"S4"});
  if (!tear.present()) {
    s.Gap(
        "Whether a partial tear or rupture has been ruled out is not "
        "recorded; return to running needs it.");
  }
}

// RF-11: cortisone caution.
void RuleRf11Cortisone(RuleContext& c, RuleSink& s) {
  const v1::Feature& asked = c.f.cortisone_requested();
  if (!asked.present()) return;
  s.Add("RF-11", v1::SEVERITY_WARNING, v1::CATEGORY_REFERRAL)
      .Summary(
          "Caution: cortisone injection may weaken the tendon and raise "
          "rupture risk")
      .Detail(
          "A cortisone injection is generally not recommended for Achilles "
          "tendinopathy: it may weaken the tendon and raise the risk of "
          "rupture.")
      .Explain(
          "Cortisone injection planned or requested: show a caution; "
          "generally not recommended.",
          "cortisone injection requested or planned")
      .Source("S4")
      .Observe(absl::StrCat(asked.value() == 2 ? "cortisone injection planned"
                                               : "cortisone injection asked "
                                                 "about",
                            OnDay(asked)),
               "yes", asked);
  s.Block("RF-11", {"cortisone"},
          "cortisone may weaken the tendon and raise rupture risk", {"S4"});
}

// E-ADJUNCT: adjuncts once exercise has failed; PRP not before; ice never
// instead of rehab.
void RuleEAdjuncts(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  if (ExerciseFailed(f)) {
    SpecialistDiscussion(c, s);
  } else {
    if (f.prp_requested().present()) PrpTooEarly(c, s);
    if (f.shockwave_requested().present()) ShockwaveNotYet(c, s);
  }
  if (f.ice_requested().present()) IceCaution(c, s);
}

}  // namespace achilles::engine::engine_internal
