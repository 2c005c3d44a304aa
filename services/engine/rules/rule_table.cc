// The table of built-in rule units, in the order they run. Safety first
// (red flags, then the pain policy, which stays silent when a red flag has
// already stopped running), then blocks, temporal checks, general advice,
// and last the verdicts that read everything before them.
#include "services/engine/rules/rule_unit.h"

namespace achilles::engine {
namespace engine_internal {
namespace {

constexpr RuleUnit kRules[] = {
    {"RF-1", "pop or snap: stop all loading, same-day assessment",
     &RuleRf1PopOrSnap},
    {"RF-2", "cannot heel raise or push off: stop running, urgent",
     &RuleRf2CannotHeelRaise},
    {"RF-3", "significant swelling or bruising: stop running, urgent",
     &RuleRf3Swelling},
    {"RF-4", "pain during > 5/10 not easing with warm-up: stop running",
     &RuleRf4PainNotEasing},
    {"RF-5", "runs taking > 48 h to settle: stop running", &RuleRf5SlowSettle},
    {"RF-6", "limping during or after runs: stop running, no racing",
     &RuleRf6Limping},
    {"RF-7", "pain or stiffness rising week on week: pull back",
     &RuleRf7WorseningTrend},
    {"RF-8",
     "settle 24-48 h (exercise: over 24 h) or next morning worse: reduce",
     &RuleRf8LoadTooHigh},
    {"RF-9", "no improvement in 2-3 weeks or repeated flares: refer",
     &RuleRf9NoImprovement},
    {"RF-10", "tear not ruled out: running cannot be called safe",
     &RuleRf10TearNotRuledOut},
    {"RF-11", "cortisone asked about or planned: caution", &RuleRf11Cortisone},
    {"RF-12", "pain spreading or sharp: do not push through",
     &RuleRf12SpreadingPain},
    {"E-ADJUNCT", "ESWT/PRP only after failed rehab; ice never instead",
     &RuleEAdjuncts},
    {"C", "clinic pain model on the latest session: red stop, amber hold",
     &RuleCPainPolicy},
    {"F-3/INS-X/F-6", "location blocks: step drops, dorsiflexion, stretch",
     &RuleLocationBlocks},
    {"A-STAGE", "stage hints for a clinician to confirm", &RuleStageHints},
    {"T-RECENCY", "data older than the recency window: reassess", &RuleRecency},
    {"D4-10PCT", "weekly run volume up > 10%: cap from the baseline",
     &RuleTenPercent},
    {"D4-B2B", "back-to-back run days on walk-jog L1-L4: no progression",
     &RuleBackToBack},
    {"D4-HARD48", "hard runs < 48 h apart: space them", &RuleHardSessions},
    {"E-FOOTWEAR", "runner in < 8 mm drop or minimalist shoes", &RuleFootwear},
    {"E-STRIKE", "forefoot strike: move toward midfoot", &RuleFootStrike},
    {"E-KTW", "knee-to-wall < 10 cm: review ankle mobility", &RuleKneeToWall},
    {"E-POSTERIOR", "glute and posterior-chain work", &RulePosteriorChain},
    {"E-EXPECT", "expected recovery for location and stage", &RuleExpectations},
    {"E-RACE",
     "racing only when mild and predictable; not < 6 months "
     "after a partial tear",
     &RuleRacing},
    {"DATA", "gaps that change what can be said", &RuleDataGaps},
    {"PROGRESSION", "progression allowed only on green, current data",
     &RuleProgressionVerdict},
};

}  // namespace

const RuleUnit* RuleTable(int* count) {
  *count = static_cast<int>(sizeof(kRules) / sizeof(kRules[0]));
  return kRules;
}

}  // namespace engine_internal

ScreenResult RunBuiltInRules(storage::EventSpan timeline, int64_t as_of_us,
                             const v1::ClinicPolicy& policy,
                             v1::Features* features) {
  using namespace engine_internal;  // NOLINT
  RuleContext context{timeline, as_of_us, policy, *features,
                      ReadSymptoms(timeline)};
  RuleSink sink(features);
  for (const RuleUnit& unit : kRules) unit.fn(context, sink);
  return sink.Take();
}

std::vector<RuleInfo> BuiltInRuleList() {
  std::vector<RuleInfo> out;
  for (const auto& unit : engine_internal::kRules) {
    out.push_back({unit.id, unit.contract});
  }
  return out;
}

}  // namespace achilles::engine
