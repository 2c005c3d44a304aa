// The screen's conclusions for everything after it: data gaps that change
// what can be said, and the progression verdict plugins honour (rule C:
// green pain and every other criterion must pass, on current data).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/time_util.h"
#include "services/engine/internal/timeline_view.h"
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine::engine_internal {

void RuleDataGaps(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
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
}

void RuleProgressionVerdict(RuleContext& c, RuleSink& /*s*/) {
  v1::Features& f = c.f;
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
  if (f.stiffness_trend() == v1::TREND_WORSENING) {
    why.push_back("morning stiffness worsening");
  }
  if (f.last_settle_hours().present() && f.last_settle_hours().value() > 24) {
    why.push_back("did not settle within 24 h");
  }
  if (f.last_morning_vs_baseline() == v1::COMPARISON_WORSE) {
    why.push_back("next morning worse");
  }
  // The session the pain policy judged must be current (T-RECENCY).
  const v1::Feature& judged = f.last_pain_during().present()
                                  ? f.last_pain_during()
                                  : f.last_pain_after();
  if (judged.present()) {
    const int age = DaysBetween(ToMicros(judged.at()), c.as_of_us);
    if (age > RecencyWindowDays(c.policy)) {
      why.push_back(absl::StrCat("latest rated session is ", age,
                                 " days old (recency window ",
                                 RecencyWindowDays(c.policy), " days)"));
    }
  }
  f.set_progression_allowed(why.empty());
  f.set_progression_blocked_because(absl::StrJoin(why, "; "));
}

}  // namespace achilles::engine::engine_internal
