#include "services/engine/safety_screen.h"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/time_util.h"
#include "services/engine/features.h"

namespace achilles::engine {
namespace {

using ::achilles::v1::Category;
using ::achilles::v1::Event;
using ::achilles::v1::Feature;
using ::achilles::v1::Features;
using ::achilles::v1::Recommendation;
using ::achilles::v1::Severity;

// The latest report of one boolean symptom, so a later "no" withdraws an
// earlier "yes".
struct Flag {
  bool value = false;
  const Event* event = nullptr;
};

struct SymptomState {
  Flag pop, sudden_pain, cannot_raise, swelling, spreads, sharp;
  // The latest finding that ruled a tear out, after which the urgent
  // assessment RF-1 asks for has happened.
  const Event* tear_ruled_out_after = nullptr;
};

void Track(bool has, bool value, const Event& e, Flag* f) {
  if (has) *f = Flag{value, &e};
}

SymptomState ReadSymptoms(const std::vector<Event>& timeline) {
  SymptomState s;
  for (const Event& e : timeline) {
    if (e.has_symptom_flags()) {
      const auto& sf = e.symptom_flags();
      Track(sf.has_pop_or_snap(), sf.pop_or_snap(), e, &s.pop);
      Track(sf.has_sudden_severe_pain(), sf.sudden_severe_pain(), e,
            &s.sudden_pain);
      Track(sf.has_cannot_single_leg_heel_raise_or_push_off(),
            sf.cannot_single_leg_heel_raise_or_push_off(), e, &s.cannot_raise);
      Track(sf.has_swelling_or_bruising_significant(),
            sf.swelling_or_bruising_significant(), e, &s.swelling);
      Track(sf.has_pain_spreads_to_heel_or_midfoot(),
            sf.pain_spreads_to_heel_or_midfoot(), e, &s.spreads);
      Track(sf.has_sharp_persistent_pain(), sf.sharp_persistent_pain(), e,
            &s.sharp);
    } else if (e.has_finding()) {
      const auto& fd = e.finding();
      // A clinician able to do the test settles the patient's report.
      Track(fd.has_can_single_leg_heel_raise(), !fd.can_single_leg_heel_raise(),
            e, &s.cannot_raise);
      if (fd.has_tear_ruled_out() && fd.tear_ruled_out()) {
        s.tear_ruled_out_after = &e;
      }
    }
  }
  return s;
}

bool After(const Event* a, const Event* b) {
  if (a == nullptr || b == nullptr) return false;
  return ToMicros(a->occurred_at()) > ToMicros(b->occurred_at());
}

std::string Nrs(double v) { return absl::StrFormat("%g/10", v); }
std::string Hours(double v) { return absl::StrFormat("%g h", v); }

class Screen {
 public:
  Screen(Features* f, const v1::ClinicPolicy& policy)
      : f_(*f), policy_(policy) {}

  Recommendation& Add(const std::string& rule_id, Severity severity,
                      Category category, std::string summary,
                      std::string detail, std::string rule,
                      std::string threshold,
                      std::initializer_list<const char*> sources,
                      std::initializer_list<const char*> tags = {}) {
    Recommendation& r = result_.recommendations.emplace_back();
    r.set_id(absl::StrCat("safety/", rule_id));
    r.set_severity(severity);
    r.set_category(category);
    r.set_summary(std::move(summary));
    r.set_detail(std::move(detail));
    r.set_plugin_id("safety");
    r.set_plugin_version(ACHILLES_VERSION);
    r.set_confidence(1.0);
    auto* ra = r.mutable_rationale();
    ra->set_rule_id(rule_id);
    ra->set_rule(std::move(rule));
    ra->set_threshold(std::move(threshold));
    for (const char* s : sources) ra->add_sources(s);
    for (const char* t : tags) r.add_tags(t);
    if (severity >= v1::SEVERITY_WARNING && rule_id.rfind("RF-", 0) == 0) {
      f_.add_red_flags(rule_id);
      f_.set_worst_red_flag(std::max(f_.worst_red_flag(), severity));
    }
    return r;
  }

  static void Observe(Recommendation& r, std::string label, std::string value,
                      const Event* e) {
    auto* o = r.mutable_rationale()->add_observed();
    o->set_label(std::move(label));
    o->set_value(std::move(value));
    if (e != nullptr) {
      o->add_event_ids(e->event_id());
      *o->mutable_observed_at() = e->occurred_at();
    }
  }

  static void Observe(Recommendation& r, std::string label, std::string value,
                      const Feature& f) {
    auto* o = r.mutable_rationale()->add_observed();
    o->set_label(std::move(label));
    o->set_value(std::move(value));
    for (const auto& id : f.event_ids()) o->add_event_ids(id);
    if (f.has_at()) *o->mutable_observed_at() = f.at();
  }

  void Block(const std::string& rule_id,
             std::initializer_list<const char*> tags, const std::string& reason,
             std::initializer_list<const char*> sources) {
    for (const char* tag : tags) {
      auto& c = result_.contraindications.emplace_back();
      c.set_id(absl::StrCat("safety/", rule_id, "/", tag));
      c.set_blocked_tag(tag);
      c.set_reason(reason);
      c.set_rule_id(rule_id);
      for (const char* s : sources) c.add_sources(s);
      c.set_raised_by("safety");
    }
  }

  void Gap(std::string gap) { result_.data_gaps.push_back(std::move(gap)); }

  ScreenResult Take() { return std::move(result_); }

 private:
  Features& f_;
  const v1::ClinicPolicy& policy_;
  ScreenResult result_;
};

std::string OnDay(const Feature& f) {
  return f.has_at() ? absl::StrCat(" (", FormatDay(ToMicros(f.at())), ")")
                    : std::string();
}

std::string OnDay(const Event* e) {
  return e != nullptr
             ? absl::StrCat(" (", FormatDay(ToMicros(e->occurred_at())), ")")
             : std::string();
}

}  // namespace

ScreenResult RunSafetyScreen(const std::vector<Event>& timeline,
                             int64_t as_of_us, const v1::ClinicPolicy& policy,
                             Features* fp) {
  Features& f = *fp;
  Screen s(fp, policy);
  const SymptomState sym = ReadSymptoms(timeline);
  constexpr auto kCrit = v1::SEVERITY_CRITICAL;
  constexpr auto kWarn = v1::SEVERITY_WARNING;
  constexpr auto kInfo = v1::SEVERITY_INFO;
  constexpr auto kSafety = v1::CATEGORY_SAFETY;
  bool stop_running = false;

  // RF-1: a pop or snap means possible rupture until a clinician rules a
  // tear out afterwards.
  if (sym.pop.value && !After(sym.tear_ruled_out_after, sym.pop.event)) {
    auto& r = s.Add(
        "RF-1", kCrit, kSafety,
        "Stop all loading: urgent same-day medical assessment to rule out "
        "rupture",
        "A pop or snap in the tendon can mean a rupture. Stop all exercise "
        "and running until a clinician has examined the tendon today.",
        "Pop or snap with sudden severe pain: stop all loading, urgent "
        "medical assessment the same day.",
        "pop or snap reported", {"S4"});
    Screen::Observe(r, absl::StrCat("pop or snap", OnDay(sym.pop.event)),
                    "reported", sym.pop.event);
    if (sym.sudden_pain.value) {
      Screen::Observe(r, "sudden severe pain", "reported",
                      sym.sudden_pain.event);
    }
    s.Block("RF-1",
            {"running", "exercise", "progression", "load_increase", "racing"},
            "possible rupture: all loading stopped until assessed", {"S4"});
    stop_running = true;
  }
  // RF-2: cannot do a single-leg heel raise or push off.
  if (sym.cannot_raise.value) {
    auto& r = s.Add(
        "RF-2", kCrit, kSafety,
        "Stop running: cannot do a single-leg heel raise, urgent assessment",
        "Being unable to rise onto the toes of one leg or push off can mean "
        "a tear. Stop running and arrange an urgent assessment.",
        "Cannot do a single-leg heel raise or push off: stop running, urgent "
        "assessment.",
        "single-leg heel raise not possible", {"S4"});
    Screen::Observe(
        r, absl::StrCat("single-leg heel raise", OnDay(sym.cannot_raise.event)),
        "not possible", sym.cannot_raise.event);
    s.Block(
        "RF-2",
        {"running", "progression", "load_increase", "racing", "heavy_loading"},
        "cannot do a single-leg heel raise: urgent assessment first", {"S4"});
    stop_running = true;
  }
  // RF-3: significant swelling or bruising.
  if (sym.swelling.value) {
    auto& r = s.Add(
        "RF-3", kCrit, kSafety,
        "Stop running: significant swelling or bruising, urgent assessment",
        "Marked swelling or bruising around the tendon needs an urgent "
        "assessment before any running.",
        "Significant swelling or bruising: stop running, urgent assessment.",
        "significant swelling or bruising reported", {"S4"});
    Screen::Observe(
        r, absl::StrCat("swelling or bruising", OnDay(sym.swelling.event)),
        "significant", sym.swelling.event);
    s.Block("RF-3", {"running", "progression", "load_increase", "racing"},
            "significant swelling or bruising: urgent assessment first",
            {"S4"});
    stop_running = true;
  }
  // RF-4: pain during > 5 and not easing with warm-up.
  if (f.last_pain_during().present() && f.last_pain_during().value() > 5 &&
      !(f.last_eased_with_warmup().present() &&
        f.last_eased_with_warmup().value() == 1)) {
    auto& r = s.Add(
        "RF-4", kWarn, kSafety,
        "Stop running; start structured rehab with a physio",
        "Pain above 5/10 during activity that does not ease as the tendon "
        "warms up means the tendon is not coping. Stop running, start a "
        "structured rehab programme and see a physio.",
        "Pain during activity above 5/10 and not easing with warm-up: stop "
        "running, structured rehab, refer to a physio.",
        "pain during > 5/10 and not easing with warm-up", {"S4"});
    Screen::Observe(r,
                    absl::StrCat("pain during ", f.last_load_kind(),
                                 OnDay(f.last_pain_during())),
                    Nrs(f.last_pain_during().value()), f.last_pain_during());
    if (f.last_eased_with_warmup().present()) {
      Screen::Observe(r, "eased with warm-up", "no",
                      f.last_eased_with_warmup());
    } else {
      Screen::Observe(r, "eased with warm-up", "not recorded",
                      f.last_pain_during());
      r.set_confidence(0.7);
      s.Gap(absl::StrCat("Whether pain eased with warm-up on the ",
                         f.last_load_kind(), OnDay(f.last_pain_during()),
                         " was not recorded."));
    }
    s.Block("RF-4", {"running", "progression", "load_increase", "racing"},
            "pain above 5/10 not easing with warm-up", {"S4"});
    stop_running = true;
  }
  // RF-5: symptoms lingering more than 48 h after runs.
  if (f.runs_settle_over_48h().present()) {
    auto& r = s.Add(
        "RF-5", kWarn, kSafety, "Stop running and seek professional advice",
        "Symptoms that take more than 48 hours to settle after a run mean "
        "the running load is more than the tendon can take.",
        "Symptoms take more than 48 h to settle after runs: stop running, "
        "seek professional advice.",
        "settle time > 48 h", {"S4"});
    Screen::Observe(r, "runs in a row that took over 48 h to settle",
                    absl::StrFormat("%g", f.runs_settle_over_48h().value()),
                    f.runs_settle_over_48h());
    s.Block("RF-5", {"running", "progression", "load_increase", "racing"},
            "symptoms lingering over 48 h after runs", {"S4"});
    stop_running = true;
  }
  // RF-6: limping during or after runs.
  if (f.limping().present()) {
    auto& r = s.Add("RF-6", kWarn, kSafety, "Stop running; no racing",
                    "Limping during or after running means the tendon is "
                    "not coping with the load.",
                    "Limping during or after runs: stop running, no racing.",
                    "limping reported", {"S4"});
    Screen::Observe(r, absl::StrCat("limping", OnDay(f.limping())), "yes",
                    f.limping());
    s.Block("RF-6", {"running", "racing", "progression", "load_increase"},
            "limping during or after runs", {"S4"});
    stop_running = true;
  }
  // RF-7: worsening week on week.
  if (f.pain_trend() == v1::TREND_WORSENING) {
    std::vector<std::string> weeks;
    for (double m : f.weekly_mean_pain()) {
      weeks.push_back(absl::StrFormat("%.1f", m));
    }
    auto& r = s.Add(
        "RF-7", kWarn, kSafety,
        "Pull back or stop running whatever the race calendar; step back in "
        "the plan",
        "Pain has risen week on week. Step back a level in the plan and "
        "reduce running, even with a race coming up.",
        "Weekly trend worsening (symptoms rising while load is unchanged or "
        "rising): stop or pull back running, step back in the plan.",
        "weekly mean pain rising over 3 consecutive weeks", {"S4", "S1"});
    auto* o = r.mutable_rationale()->add_observed();
    o->set_label("weekly mean of daily worst pain, oldest first");
    o->set_value(absl::StrJoin(weeks, " -> "));
    for (const auto& id : f.pain_trend_event_ids()) o->add_event_ids(id);
    s.Block("RF-7", {"progression", "load_increase", "racing"},
            "symptoms worsening week on week", {"S4", "S1"});
  }
  // RF-8: settle 24-48 h, or next morning worse.
  {
    const bool settle_24_48 = f.last_settle_hours().present() &&
                              f.last_settle_hours().value() > 24 &&
                              f.last_settle_hours().value() <= 48;
    const bool morning_worse =
        f.last_morning_vs_baseline() == v1::COMPARISON_WORSE ||
        f.consecutive_worse_mornings().value() >= 1;
    if (settle_24_48 || morning_worse) {
      auto& r = s.Add(
          "RF-8", kWarn, v1::CATEGORY_LOAD_MANAGEMENT,
          "Load was too high: reduce the next session or go back one level",
          "The tendon took longer than a day to settle, or the next morning "
          "was worse than usual. Reduce the next session or return to the "
          "previous level before trying to progress again.",
          "Settle time over 24 h and up to 48 h, or next morning worse than "
          "usual: load too high, reduce the next session or go back one "
          "level.",
          "settle time > 24 h and <= 48 h, or next morning WORSE",
          {"S4", "S1", "SIL"});
      if (settle_24_48) {
        Screen::Observe(r,
                        absl::StrCat("settle time after ", f.last_load_kind(),
                                     OnDay(f.last_settle_hours())),
                        Hours(f.last_settle_hours().value()),
                        f.last_settle_hours());
      }
      if (f.last_morning_vs_baseline() == v1::COMPARISON_WORSE) {
        auto* o = r.mutable_rationale()->add_observed();
        o->set_label(absl::StrCat("next morning after ", f.last_load_kind()));
        o->set_value("worse than usual");
        o->add_event_ids(f.last_load_event_id());
      }
      if (f.consecutive_worse_mornings().value() >= 1) {
        Screen::Observe(
            r, "mornings in a row with stiffness worse than usual",
            absl::StrFormat("%g", f.consecutive_worse_mornings().value()),
            f.consecutive_worse_mornings());
      }
      s.Block("RF-8", {"progression", "load_increase"},
              "load too high last time: reduce or go back one level",
              {"S4", "S1", "SIL"});
    }
  }
  // RF-9: no improvement after 2-3 weeks of self-management, or repeated
  // spikes after each attempt to run. "No improvement" needs something to
  // improve: the latest week's pain is above the clinic's acceptable
  // (green) ceiling. Self-management is counted from the first pain report,
  // 2 weeks being the lower bound of CLINICAL.md's "2-3 weeks"; "repeated"
  // is at least two runs in a row that flared.
  const bool no_improvement =
      f.days_of_symptom_history() >= 14 && f.weekly_mean_pain_size() >= 2 &&
      f.pain_trend() != v1::TREND_IMPROVING &&
      f.weekly_mean_pain(f.weekly_mean_pain_size() - 1) >=
          f.weekly_mean_pain(0) &&
      f.weekly_mean_pain(f.weekly_mean_pain_size() - 1) > GreenCeiling(policy);
  const bool repeated_spikes = f.runs_flared_in_a_row().value() >= 2;
  if (no_improvement || repeated_spikes) {
    auto& r = s.Add(
        "RF-9", kInfo, v1::CATEGORY_REFERRAL,
        repeated_spikes && !no_improvement
            ? "Refer to a sports physio: symptoms flare after each attempt "
              "to run"
            : "Refer to a sports physio: no improvement after 2-3 weeks",
        "Self-management is not working: symptoms have not improved, or "
        "flare up after every attempt to run.",
        "No improvement after 2-3 weeks of self-management, or repeated "
        "spikes after each attempt to run: refer to a sports physio.",
        absl::StrCat("latest weekly mean pain not below the earliest over "
                     ">= 2 weeks and above ",
                     GreenCeiling(policy),
                     "/10; or >= 2 runs in a row that flared"),
        {"S4", "S1"});
    if (no_improvement) {
      std::vector<std::string> weeks;
      for (double m : f.weekly_mean_pain()) {
        weeks.push_back(absl::StrFormat("%.1f", m));
      }
      auto* o = r.mutable_rationale()->add_observed();
      o->set_label("weekly mean of daily worst pain, oldest first");
      o->set_value(absl::StrJoin(weeks, " -> "));
      for (const auto& id : f.pain_trend_event_ids()) o->add_event_ids(id);
    }
    if (repeated_spikes) {
      Screen::Observe(
          r,
          "runs in a row that took over 24 h to settle or left the next "
          "morning worse",
          absl::StrFormat("%g", f.runs_flared_in_a_row().value()),
          f.runs_flared_in_a_row());
    }
  }
  // RF-10: a tear not yet ruled out blocks "safe to continue running".
  if (f.tear_ruled_out().present() && f.tear_ruled_out().value() == 0) {
    auto& r = s.Add(
        "RF-10", kWarn, kSafety,
        "Running cannot be marked safe: partial tear or rupture not yet "
        "ruled out",
        "Until a tear has been ruled out, no advice may call running safe to "
        "continue.",
        "Partial tear or rupture not yet ruled out: running may not be marked "
        "safe to continue.",
        "tear_ruled_out = false", {"S4"});
    Screen::Observe(r,
                    absl::StrCat("tear ruled out", OnDay(f.tear_ruled_out())),
                    "no", f.tear_ruled_out());
  }
  if (!(f.tear_ruled_out().present() && f.tear_ruled_out().value() == 1)) {
    s.Block("RF-10", {"safe_to_continue_running"},
            "a tear has not been ruled out", {"S4"});
    if (!f.tear_ruled_out().present()) {
      s.Gap(
          "Whether a partial tear or rupture has been ruled out is not "
          "recorded; return to running needs it.");
    }
  }
  // RF-11: cortisone caution.
  if (f.cortisone_requested().present()) {
    auto& r = s.Add(
        "RF-11", kWarn, v1::CATEGORY_REFERRAL,
        "Caution: cortisone injection may weaken the tendon and raise "
        "rupture risk",
        "A cortisone injection is generally not recommended for Achilles "
        "tendinopathy: it may weaken the tendon and raise the risk of "
        "rupture.",
        "Cortisone injection planned or requested: show a caution; generally "
        "not recommended.",
        "cortisone injection requested or planned", {"S4"});
    Screen::Observe(r,
                    absl::StrCat("cortisone injection requested",
                                 OnDay(f.cortisone_requested())),
                    "yes", f.cortisone_requested());
    s.Block("RF-11", {"cortisone"},
            "cortisone may weaken the tendon and raise rupture risk", {"S4"});
  }
  // RF-12: pain spreading into heel or midfoot, or sharp persistent pain.
  if (sym.spreads.value || sym.sharp.value) {
    auto& r = s.Add(
        "RF-12", kInfo, v1::CATEGORY_LOAD_MANAGEMENT,
        "Do not push through: return to a lower load",
        "Pain spreading into the heel or midfoot, or sharp persistent pain, "
        "is a sign to back off rather than push through.",
        "Pain spreads into the heel or midfoot, or sharp persistent pain: do "
        "not push through, return to lower load.",
        "pain spreading or sharp persistent pain reported", {"S0"});
    if (sym.spreads.value) {
      Screen::Observe(r, "pain spreads into heel or midfoot", "reported",
                      sym.spreads.event);
    }
    if (sym.sharp.value) {
      Screen::Observe(r, "sharp persistent pain", "reported", sym.sharp.event);
    }
    s.Block("RF-12", {"progression", "load_increase"},
            "pain spreading or sharp: lower load", {"S0"});
  }

  // E: adjuncts once exercise has failed. PRP only after 3-6 months of
  // failed rehab (S4): the lower bound, 3 months, opens the discussion.
  if (f.days_on_programme().present() && f.days_on_programme().value() >= 90 &&
      f.visa_a_latest().present() && f.visa_a_first().present() &&
      f.visa_a_latest().value() <= f.visa_a_first().value() &&
      f.visa_a_latest().event_ids(0) != f.visa_a_first().event_ids(0)) {
    auto& r = s.Add(
        "E", kInfo, v1::CATEGORY_REFERRAL,
        "Discuss shockwave (ESWT) or PRP with a specialist: exercise has not "
        "helped after 3+ months",
        "For chronic tendinopathy where adherent exercise has failed, "
        "shockwave therapy can be considered; PRP has mixed evidence and "
        "only comes after 3-6 months of failed rehab.",
        "ESWT when chronic and exercise failed; PRP only after 3-6 months of "
        "failed rehab.",
        ">= 3 months of loading and VISA-A not improved", {"S4"});
    Screen::Observe(r, "days since loading started",
                    absl::StrFormat("%g", f.days_on_programme().value()),
                    f.days_on_programme());
    Screen::Observe(r, "VISA-A first -> latest",
                    absl::StrFormat("%g -> %g", f.visa_a_first().value(),
                                    f.visa_a_latest().value()),
                    f.visa_a_latest());
    if (f.stage() == v1::STAGE_DEGENERATIVE) {
      Screen::Observe(r, "stage", "degenerative", nullptr);
    }
  }

  // Pain-monitoring policy (CLINICAL.md C) on the latest rated session.
  const std::string model = PainModelName(policy);
  const Feature& load_pain =
      f.last_pain_during().present() &&
              (!f.last_pain_after().present() ||
               f.last_pain_during().value() >= f.last_pain_after().value())
          ? f.last_pain_during()
          : f.last_pain_after();
  // The traffic light is written for running (S4); after an exercise
  // session the same zones mean lighter or held load (BEY: more pain after
  // training means a lighter load).
  const bool after_exercise = f.last_load_kind() == "exercise";
  if (f.pain_zone() == v1::PAIN_ZONE_RED && !stop_running) {
    const bool sil = policy.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5;
    auto& r = s.Add(
        "C", kWarn, kSafety,
        after_exercise
            ? "Pain above the clinic's limit after exercise: lighter load; no "
              "running or progression until it settles"
        : sil ? "Pain above the clinic's limit: stop or reduce running"
              : "Pain in the red zone: stop running; structured rehab and "
                "physio",
        absl::StrCat("Under the clinic's pain model (", model, ") pain of ",
                     Nrs(load_pain.value()), " is above what is acceptable."),
        sil ? "Silbernagel model: pain above the acceptable limit means stop "
              "or reduce."
            : "Traffic light: pain 6/10 or more means stop running, rehab, "
              "physio.",
        sil ? absl::StrCat("pain <= ", GreenCeiling(policy), "/10")
            : "pain >= 6/10",
        after_exercise ? std::initializer_list<const char*>{"S4", "BEY"}
        : sil          ? std::initializer_list<const char*>{"SIL", "S1"}
                       : std::initializer_list<const char*>{"S4"});
    r.mutable_rationale()->set_policy(model);
    Screen::Observe(
        r, absl::StrCat("pain with ", f.last_load_kind(), OnDay(load_pain)),
        Nrs(load_pain.value()), load_pain);
    s.Block("C", {"running", "progression", "load_increase", "racing"},
            "pain above the clinic's limit", {"S4", "SIL"});
  } else if (f.pain_zone() == v1::PAIN_ZONE_AMBER) {
    const bool sil = policy.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5;
    auto& r = s.Add(
        "C", kInfo, v1::CATEGORY_LOAD_MANAGEMENT,
        sil ? "Pain acceptable but the tendon did not settle: reduce, do not "
              "progress"
        : after_exercise
            ? "Amber zone: hold the current exercise load; do not progress"
            : "Amber zone: hold the current level; cut pace and distance",
        absl::StrCat(
            "Under the clinic's pain model (", model, ") this response ",
            sil ? "is acceptable only if it settles within 24 h, the next "
                  "morning is not worse and the trend is not worsening."
                : "is borderline: keep the level, trim pace and distance, "
                  "and monitor."),
        sil ? "Silbernagel model: pain up to the limit is acceptable only if "
              "it settles within 24 h and the next morning is not worse."
            : "Traffic light amber (4-5/10): hold level, no progression, cut "
              "running pace and distance.",
        sil ? "settles <= 24 h and next morning not worse" : "pain 4-5/10",
        sil ? std::initializer_list<const char*>{"SIL", "S1"}
            : std::initializer_list<const char*>{"S4", "S3"});
    r.mutable_rationale()->set_policy(model);
    Screen::Observe(
        r, absl::StrCat("pain with ", f.last_load_kind(), OnDay(load_pain)),
        Nrs(load_pain.value()), load_pain);
    s.Block("C", {"progression", "load_increase"},
            "pain in the amber zone: hold level", {"S4", "S3"});
  }

  // F#3: heel drop below step only for a confirmed mid-portion tendon.
  if (f.location() != v1::LOCATION_MIDPORTION) {
    s.Block("F-3", {"heel_below_step"},
            "heel drops below step level are only for a confirmed "
            "mid-portion tendinopathy",
            {"S4", "S0", "S3"});
  }
  // INS-X1..X3 also hold when a clinic has switched the insertional plugin
  // off: restrictive beats permissive (CLINICAL.md F).
  if (f.location() == v1::LOCATION_INSERTIONAL ||
      f.location() == v1::LOCATION_MIXED) {
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
  // F#6: aggressive stretching always blocked; gentle only by policy for
  // mid-portion.
  s.Block("F-6", {"aggressive_stretch"},
          "aggressive stretching into dorsiflexion is never advised",
          {"S4", "S3"});
  if (!(policy.allow_gentle_stretch_midportion() &&
        f.location() == v1::LOCATION_MIDPORTION)) {
    s.Block("F-6", {"gentle_stretch"},
            "gentle stretching is off unless the clinic allows it for a "
            "mid-portion tendon",
            {"S3", "S4"});
  }

  // A: S4's stage hints may only suggest REACTIVE or DEGENERATIVE; a
  // clinician confirms (CLINICAL.md F#7). Only while no stage is recorded.
  if (f.stage() == v1::STAGE_UNSPECIFIED || f.stage() == v1::STAGE_UNKNOWN) {
    const Feature& pain = load_pain;
    const bool reactive = f.last_eased_with_warmup().present() &&
                          f.last_eased_with_warmup().value() == 1 &&
                          f.morning_stiffness_reported().present() &&
                          f.last_settle_hours().present() &&
                          f.last_settle_hours().value() < 24 &&
                          pain.present() && pain.value() <= 3;
    const bool nodule = f.nodule().present() && f.nodule().value() == 1;
    const bool lingering_severe = pain.present() && pain.value() > 5 &&
                                  ((f.last_settle_hours().present() &&
                                    f.last_settle_hours().value() > 48) ||
                                   f.pain_trend() == v1::TREND_WORSENING);
    if (reactive || nodule || lingering_severe) {
      const bool degenerative = nodule || lingering_severe;
      auto& r = s.Add(
          "A-stage", kInfo, v1::CATEGORY_DATA_REQUEST,
          degenerative ? "Symptoms fit a degenerative tendon: a clinician "
                         "should assess and record the stage"
                       : "Symptoms fit a reactive tendon: a clinician should "
                         "confirm and record the stage",
          "These are heuristics only; the stage changes which protocol "
          "applies, so it is a clinician's call.",
          degenerative
              ? "Stage hints (S4): worse during runs, lingering for days, "
                "worse week on week, above 5/10, or a nodule suggest "
                "DEGENERATIVE."
              : "Stage hints (S4): eases with warm-up, morning stiffness, "
                "settles within 24 h, at most 3/10 suggest REACTIVE.",
          degenerative ? "nodule, or pain > 5/10 lingering > 48 h or worsening"
                       : "eases with warm-up, morning stiffness, settles "
                         "< 24 h, pain <= 3/10",
          {"S4", "COOK"});
      if (nodule) Screen::Observe(r, "nodule", "found", f.nodule());
      if (pain.present()) {
        Screen::Observe(r, absl::StrCat("pain with ", f.last_load_kind()),
                        Nrs(pain.value()), pain);
      }
      if (f.last_settle_hours().present()) {
        Screen::Observe(r, "settle time", Hours(f.last_settle_hours().value()),
                        f.last_settle_hours());
      }
      if (reactive) {
        Screen::Observe(r, "morning stiffness", "reported",
                        f.morning_stiffness_reported());
      }
    }
  }

  // Data gaps that change what can be said.
  if (f.location() == v1::LOCATION_UNSPECIFIED ||
      f.location() == v1::LOCATION_UNKNOWN) {
    s.Gap(
        "Tendinopathy location (mid-portion or insertional) is not "
        "recorded; protocol advice needs it.");
  }
  if (!f.last_load_event_id().empty() && !f.last_settle_hours().present() &&
      f.last_morning_vs_baseline() == v1::COMPARISON_UNSPECIFIED) {
    s.Gap(absl::StrCat(
        "The 24-hour response (settle time or next-morning pain) after the "
        "latest ",
        f.last_load_kind(), " is not recorded; progression needs it."));
  }

  // Progression verdict for plugins (CLINICAL.md C: green and every other
  // criterion must pass).
  std::vector<std::string> why;
  if (f.worst_red_flag() >= v1::SEVERITY_WARNING) {
    why.push_back(
        absl::StrCat("red flag ", absl::StrJoin(f.red_flags(), ", ")));
  }
  if (f.pain_zone() != v1::PAIN_ZONE_GREEN) {
    why.push_back(f.pain_zone() == v1::PAIN_ZONE_UNSPECIFIED
                      ? "no rated session"
                      : "pain not in the green zone");
  }
  if (f.pain_trend() == v1::TREND_WORSENING) why.push_back("worsening trend");
  if (f.last_settle_hours().present() && f.last_settle_hours().value() > 24) {
    why.push_back("did not settle within 24 h");
  }
  if (f.last_morning_vs_baseline() == v1::COMPARISON_WORSE) {
    why.push_back("next morning worse");
  }
  f.set_progression_allowed(why.empty());
  f.set_progression_blocked_because(absl::StrJoin(why, "; "));
  (void)as_of_us;
  return s.Take();
}

}  // namespace achilles::engine
