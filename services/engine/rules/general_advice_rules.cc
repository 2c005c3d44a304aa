// General advice every patient or runner gets where the data calls for it
// (section E): footwear, foot strike, ankle mobility, posterior-chain work,
// what recovery to expect, and racing. Permissive advice has provenance
// ENGINE_RULE (contraindications apply); a racing block is safety advice.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/time_util.h"
#include "services/engine/internal/timeline_view.h"
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine::engine_internal {
namespace {

constexpr auto kEngine = v1::PROVENANCE_ENGINE_RULE;
constexpr double kMinShoeDropMm = 8;   // E (S4).
constexpr double kKneeToWallCm = 10;   // E (S4).
constexpr int kPartialTearMonths = 6;  // E (S4): racing after a partial tear.

const char* LocationWords(v1::Location l) {
  switch (l) {
    case v1::LOCATION_MIDPORTION:
      return "mid-portion";
    case v1::LOCATION_INSERTIONAL:
      return "insertional";
    case v1::LOCATION_MIXED:
      return "mid-portion and insertional";
    default:
      return "not determined";
  }
}

const char* StageWords(v1::Stage s) {
  switch (s) {
    case v1::STAGE_REACTIVE:
      return "reactive";
    case v1::STAGE_DISREPAIR:
      return "disrepair";
    case v1::STAGE_DEGENERATIVE:
      return "degenerative";
    default:
      return "not determined";
  }
}

std::vector<std::string> FindingIds(const v1::Features& f) {
  return {f.finding_event_ids().begin(), f.finding_event_ids().end()};
}

struct Expectation {
  const char* label;
  const char* range;
  int max_weeks;  // For choosing the longest; 0 = open-ended upper bound.
};

// S4's recovery times that apply to this patient; the caller shows all.
std::vector<Expectation> Expectations(const v1::Features& f) {
  std::vector<Expectation> out;
  if (f.stage() == v1::STAGE_DEGENERATIVE) {
    out.push_back({"degenerative tendon", "6-12 months or longer", 0});
  }
  if (IsInsertional(f)) {
    out.push_back({"insertional tendinopathy",
                   "4-9 months, slower, with specialist input advised", 39});
  } else if (f.location() == v1::LOCATION_MIDPORTION &&
             f.stage() != v1::STAGE_REACTIVE) {
    out.push_back({"established mid-portion tendinopathy", "3-6 months", 26});
  }
  if (f.stage() == v1::STAGE_REACTIVE) {
    out.push_back({"reactive tendon", "4-8 weeks", 8});
  }
  return out;
}

bool MildAndPredictable(const RuleContext& c, std::string* why) {
  const v1::Features& f = c.f;
  const int weeks = TrendWeeks(c.policy);
  if (f.worst_red_flag() >= v1::SEVERITY_WARNING) {
    *why = "a red flag is active";
    return false;
  }
  if (f.irritability() != v1::IRRITABILITY_SETTLED) {
    *why = "symptoms have not settled";
    return false;
  }
  const int days =
      DaysBetween(ToMicros(f.irritability_since().at()), c.as_of_us);
  if (days < 7 * weeks) {
    *why = absl::StrCat("settled for ", days, " days, fewer than the ", weeks,
                        "-week trend window");
    return false;
  }
  *why = absl::StrCat("settled for ", days, " days");
  return true;
}

// A race before six calendar months after a partial tear.
bool TooSoonAfterTear(const v1::Features& f, int64_t race_us) {
  if (!f.partial_tear().present() || f.partial_tear().value() != 1) {
    return false;
  }
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay tear = absl::ToCivilDay(
      absl::FromUnixMicros(ToMicros(f.partial_tear().at())), utc);
  const absl::CivilMonth month = absl::CivilMonth(tear) + kPartialTearMonths;
  const absl::CivilDay allowed(month.year(), month.month(), tear.day());
  return absl::ToCivilDay(absl::FromUnixMicros(race_us), utc) < allowed;
}

}  // namespace

// E-FOOTWEAR: every runner in low-drop or minimalist shoes.
void RuleFootwear(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  const bool low_drop =
      f.shoe_drop_mm().present() && f.shoe_drop_mm().value() < kMinShoeDropMm;
  const bool minimalist = f.barefoot_or_minimalist().value() == 1;
  if (!f.is_runner() || (!low_drop && !minimalist)) return;
  auto& r =
      s.Add("E-FOOTWEAR", v1::SEVERITY_INFO, v1::CATEGORY_FOOTWEAR, kEngine)
          .Summary(
              "Run in shoes with at least an 8 mm heel drop for now; return "
              "to minimalist shoes only gradually once settled")
          .Detail(
              "A higher heel drop offloads the tendon, but only as a "
              "short-term aid. Change drop in small steps: big changes in "
              "drop can bring symptoms back.")
          .Explain(
              "Footwear with >= 8 mm drop; back to minimalist only gradually "
              "once settled; higher drop is a short-term aid; avoid big drop "
              "changes.",
              "shoe drop < 8 mm, or barefoot/minimalist shoes")
          .Sources({"S4", "S3", "S1"})
          .Tag("footwear");
  if (low_drop) {
    r.Observe("shoe heel drop",
              absl::StrFormat("%g mm", f.shoe_drop_mm().value()),
              f.shoe_drop_mm());
  }
  if (minimalist) {
    r.Observe("barefoot or minimalist shoes", "yes",
              f.barefoot_or_minimalist());
  }
  r.Prescription()->set_shoe_drop_mm_min(kMinShoeDropMm);
}

// E-STRIKE: a forefoot strike loads the tendon more.
void RuleFootStrike(RuleContext& c, RuleSink& s) {
  const v1::Feature& strike = c.f.forefoot_strike();
  if (!strike.present() || strike.value() != 1) return;
  s.Add("E-STRIKE", v1::SEVERITY_INFO, v1::CATEGORY_RETURN_TO_RUN, kEngine)
      .Summary("Shift gradually toward a midfoot strike when running")
      .Detail(
          "Landing on the forefoot loads the Achilles tendon more than a "
          "midfoot landing; change gradually, one thing at a time.")
      .Explain("Forefoot strike loads the tendon more: move toward midfoot.",
               "latest observed foot strike: forefoot")
      .Sources({"S4", "S2"})
      .Observe(absl::StrCat("foot strike", OnDay(strike)), "forefoot", strike)
      .Tag("running");
}

// E-KTW: knee-to-wall under 10 cm means limited ankle dorsiflexion.
void RuleKneeToWall(RuleContext& c, RuleSink& s) {
  const v1::Feature& ktw = c.f.knee_to_wall_cm();
  if (!ktw.present() || ktw.value() >= kKneeToWallCm) return;
  s.Add("E-KTW", v1::SEVERITY_INFO, v1::CATEGORY_EXERCISE, kEngine)
      .Summary(absl::StrFormat(
          "Ankle dorsiflexion limited (knee-to-wall %g cm, under 10 cm): "
          "review calf and ankle mobility",
          ktw.value()))
      .Detail(
          "The knee-to-wall test measures ankle dorsiflexion against a 10 cm "
          "mark. Review calf and ankle mobility with the physio; any "
          "stretching follows the clinic's stretching policy and never "
          "stretches an insertional tendon into dorsiflexion.")
      .Explain("Knee-to-wall test at 10 cm.", "knee-to-wall < 10 cm")
      .Source("S4")
      .Observe(absl::StrCat("knee-to-wall distance", OnDay(ktw)),
               absl::StrFormat("%g cm", ktw.value()), ktw);
}

// E-POSTERIOR: glute and posterior-chain work alongside calf loading.
void RulePosteriorChain(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  if (f.location() == v1::LOCATION_UNSPECIFIED ||
      f.location() == v1::LOCATION_UNKNOWN) {
    return;
  }
  s.Add("E-POSTERIOR", v1::SEVERITY_INFO, v1::CATEGORY_EXERCISE, kEngine)
      .Summary(
          "Add glute and posterior-chain strengthening alongside the calf "
          "work")
      .Detail(
          "Hip and posterior-chain strength share the load of running with "
          "the calf; train them alongside the tendon programme.")
      .Explain("Glute and posterior-chain work.", "tendinopathy recorded")
      .Sources({"S4", "S0"})
      .Observe("tendinopathy location recorded", "yes", FindingIds(f))
      .Tag("exercise")
      .Priority(5);
}

// E-EXPECT: what recovery to expect for this location and stage.
void RuleExpectations(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  const auto expectations = Expectations(f);
  if (expectations.empty()) return;
  std::string lines;
  for (const auto& e : expectations) {
    absl::StrAppend(&lines, e.label, ": usually ", e.range, ". ");
  }
  // The longest applicable range leads: the honest expectation.
  const Expectation& lead = expectations.front();
  auto& r =
      s.Add("E-EXPECT", v1::SEVERITY_INFO, v1::CATEGORY_EXPECTATIONS, kEngine)
          .Summary(absl::StrCat("Expected recovery: ", lead.range, " (",
                                lead.label, ")"))
          .Detail(absl::StrCat(
              lines,
              "A heavy slow resistance programme itself runs 12 weeks. These "
              "are typical times, not promises: progress is judged on the "
              "patient's own response."))
          .Explain(
              "Typical recovery: reactive 4-8 weeks; established mid-portion "
              "3-6 months; insertional 4-9 months; degenerative 6-12+ months.",
              "location and stage recorded")
          .Sources({"S4", "BEY"})
          .Observe("tendinopathy location", LocationWords(f.location()),
                   FindingIds(f));
  if (f.stage_recorded().present()) {
    r.Observe("stage", StageWords(f.stage()), f.stage_recorded());
  }
}

// E-RACE: racing only when symptoms have been mild and predictable for
// weeks, and not within six months of a partial tear.
void RuleRacing(RuleContext& c, RuleSink& s) {
  const v1::Features& f = c.f;
  if (!f.race_planned().present() || f.race_planned().value() != 1) return;
  const int64_t race_us =
      f.race_date().present() ? ToMicros(f.race_date().at()) : c.as_of_us;
  std::string why;
  if (TooSoonAfterTear(f, race_us)) {
    s.Add("E-RACE", v1::SEVERITY_WARNING, v1::CATEGORY_SAFETY)
        .Summary("No racing within 6 months of a partial tear")
        .Detail("After a partial tear, racing waits at least six months.")
        .Explain("Partial tear: no racing for at least 6 months.",
                 "race date < partial tear + 6 months")
        .Source("S4")
        .Observe(absl::StrCat("partial tear", OnDay(f.partial_tear())),
                 "diagnosed", f.partial_tear())
        .Observe("race planned", "yes", f.race_planned());
    s.Block("E-RACE", {"racing"}, "within 6 months of a partial tear", {"S4"});
  } else if (!MildAndPredictable(c, &why)) {
    s.Add("E-RACE", v1::SEVERITY_INFO, v1::CATEGORY_LOAD_MANAGEMENT)
        .Summary(
            "Racing not advised yet: symptoms must be mild and "
            "predictable for weeks first")
        .Detail(absl::StrCat("Not yet: ", why, "."))
        .Explain("Race only if symptoms are mild and predictable for weeks.",
                 absl::StrCat("settled for at least the ", TrendWeeks(c.policy),
                              "-week trend window"))
        .Source("S4")
        .Observe("race planned", "yes", f.race_planned())
        .Observe("irritability", f.irritability_evidence(),
                 f.irritability_since());
    s.Block("E-RACE", {"racing"}, "symptoms not yet mild and predictable",
            {"S4"});
  } else {
    s.Add("E-RACE", v1::SEVERITY_INFO, v1::CATEGORY_RETURN_TO_RUN, kEngine)
        .Summary("Racing is reasonable if symptoms stay mild and predictable")
        .Detail(absl::StrCat("Symptoms have been mild and predictable: ", why,
                             ". Keep monitoring the 24-hour response."))
        .Explain("Race only if symptoms are mild and predictable for weeks.",
                 absl::StrCat("settled for at least the ", TrendWeeks(c.policy),
                              "-week trend window"))
        .Source("S4")
        .Observe("irritability", f.irritability_evidence(),
                 f.irritability_since())
        .Tag("racing");
  }
}

}  // namespace achilles::engine::engine_internal
