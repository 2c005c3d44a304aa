// RuleSink and the helpers rule units share.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/time_util.h"
#include "services/engine/internal/timeline_view.h"
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine::engine_internal {

sdk::Recommend& RuleSink::Add(const std::string& rule_id, v1::Severity severity,
                              v1::Category category,
                              v1::Provenance provenance) {
  // RF-11 is a caution about a treatment, not a symptom: asking about
  // cortisone must not halt the patient's loading programme.
  if (severity >= v1::SEVERITY_WARNING && rule_id.rfind("RF-", 0) == 0 &&
      rule_id != "RF-11") {
    f_.add_red_flags(rule_id);
    f_.set_worst_red_flag(std::max(f_.worst_red_flag(), severity));
  }
  Pending& p = pending_.emplace_back(
      Pending{rule_id, provenance, sdk::Recommend(rule_id)});
  p.builder.Severity(severity).Category(category);
  p.builder.Mutable()->mutable_rationale()->set_rule_id(rule_id);
  return p.builder;
}

void RuleSink::Block(const std::string& rule_id,
                     std::initializer_list<const char*> tags,
                     const std::string& reason,
                     std::initializer_list<const char*> sources) {
  for (const char* tag : tags) {
    auto& c = result_.contraindications.emplace_back();
    c.set_id(absl::StrCat(kSafetyScreenId, "/", rule_id, "/", tag));
    c.set_blocked_tag(tag);
    c.set_reason(reason);
    c.set_rule_id(rule_id);
    for (const char* s : sources) c.add_sources(s);
    c.set_raised_by(kSafetyScreenId);
    c.set_provenance(v1::PROVENANCE_SAFETY_SCREEN);
  }
}

ScreenResult RuleSink::Take() {
  for (Pending& p : pending_) {
    v1::Recommendation* r = p.builder.Mutable();
    const char* owner = p.provenance == v1::PROVENANCE_SAFETY_SCREEN
                            ? kSafetyScreenId
                            : kEngineRuleId;
    r->set_id(absl::StrCat(owner, "/", p.rule_id));
    r->set_plugin_id(owner);
    r->set_plugin_version(ACHILLES_VERSION);
    r->set_provenance(p.provenance);
    result_.recommendations.push_back(std::move(*r));
  }
  pending_.clear();
  return std::move(result_);
}

SymptomState ReadSymptoms(storage::EventSpan timeline) {
  SymptomState s;
  auto track = [](bool has, bool value, const v1::Event& e, Flag* f) {
    if (has) *f = Flag{value, &e};
  };
  for (const v1::Event& e : timeline) {
    if (e.has_symptom_flags()) {
      const auto& sf = e.symptom_flags();
      track(sf.has_pop_or_snap(), sf.pop_or_snap(), e, &s.pop);
      track(sf.has_sudden_severe_pain(), sf.sudden_severe_pain(), e,
            &s.sudden_pain);
      track(sf.has_cannot_single_leg_heel_raise_or_push_off(),
            sf.cannot_single_leg_heel_raise_or_push_off(), e, &s.cannot_raise);
      track(sf.has_swelling_or_bruising_significant(),
            sf.swelling_or_bruising_significant(), e, &s.swelling);
      track(sf.has_pain_spreads_to_heel_or_midfoot(),
            sf.pain_spreads_to_heel_or_midfoot(), e, &s.spreads);
      track(sf.has_sharp_persistent_pain(), sf.sharp_persistent_pain(), e,
            &s.sharp);
    } else if (e.has_finding()) {
      const auto& fd = e.finding();
      // A clinician able to do the test settles the patient's report.
      track(fd.has_can_single_leg_heel_raise(), !fd.can_single_leg_heel_raise(),
            e, &s.cannot_raise);
      if (fd.has_tear_ruled_out() && fd.tear_ruled_out()) {
        s.tear_ruled_out_after = &e;
      }
    }
  }
  return s;
}

std::string Nrs(double v) { return absl::StrFormat("%g/10", v); }
std::string Hours(double v) { return absl::StrFormat("%g h", v); }

std::string OnDay(const v1::Feature& f) {
  return f.has_at() ? absl::StrCat(" (", FormatDay(ToMicros(f.at())), ")")
                    : std::string();
}

std::string OnDay(const v1::Event* e) {
  return e != nullptr
             ? absl::StrCat(" (", FormatDay(ToMicros(e->occurred_at())), ")")
             : std::string();
}

void ObserveFlag(sdk::Recommend& r, const std::string& label,
                 const std::string& value, const v1::Event* e) {
  if (e == nullptr) {
    r.Observe(label, value);
    return;
  }
  r.Observe(label, value, {e->event_id()}, &e->occurred_at());
}

bool IsInsertional(const v1::Features& f) {
  return f.location() == v1::LOCATION_INSERTIONAL ||
         f.location() == v1::LOCATION_MIXED;
}

const v1::Feature& LoadPainFeature(const v1::Features& f) {
  return f.last_pain_during().present() &&
                 (!f.last_pain_after().present() ||
                  f.last_pain_during().value() >= f.last_pain_after().value())
             ? f.last_pain_during()
             : f.last_pain_after();
}

bool IsStale(const RuleContext& c, const v1::Feature& f) {
  return f.has_at() && DaysBetween(ToMicros(f.at()), c.as_of_us) >
                           RecencyWindowDays(c.policy);
}

bool IsRedFlag(const v1::Features& f, const char* id) {
  return std::find(f.red_flags().begin(), f.red_flags().end(), id) !=
         f.red_flags().end();
}

}  // namespace achilles::engine::engine_internal
