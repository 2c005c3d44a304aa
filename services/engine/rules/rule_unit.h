// What a built-in rule unit sees and how it answers. Internal to the engine.
//
// A unit is `void Rule(RuleContext&, RuleSink&)`: it reads the features
// (and, for symptom flags, the timeline), and adds recommendations,
// contraindications and data gaps to the sink. Units run in table order
// (rule_table.cc); a unit may read what earlier units recorded in the
// context (red flags, stop_running).
#ifndef ACHILLES_SERVICES_ENGINE_RULES_RULE_UNIT_H_
#define ACHILLES_SERVICES_ENGINE_RULES_RULE_UNIT_H_

#include <cstdint>
#include <deque>
#include <initializer_list>
#include <string>
#include <vector>

#include "achilles/recommend.h"
#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"
#include "achilles/v1/policy.pb.h"
#include "services/engine/rules/rules.h"

namespace achilles::engine::engine_internal {

// The latest report of one boolean symptom, so a later "no" withdraws an
// earlier "yes".
struct Flag {
  bool value = false;
  const v1::Event* event = nullptr;
};

struct SymptomState {
  Flag pop, sudden_pain, cannot_raise, swelling, spreads, sharp;
  // The latest finding that ruled a tear out, after which the urgent
  // assessment RF-1 asks for has happened.
  const v1::Event* tear_ruled_out_after = nullptr;
};

SymptomState ReadSymptoms(storage::EventSpan timeline);

struct RuleContext {
  storage::EventSpan timeline;
  int64_t as_of_us;
  const v1::ClinicPolicy& policy;
  v1::Features& f;
  SymptomState symptoms;
  // Set by rules that stop running, so rule C does not repeat them.
  bool stop_running = false;
};

class RuleSink {
 public:
  explicit RuleSink(v1::Features* f) : f_(*f) {}

  // Starts a recommendation for `rule_id` with its severity and category.
  // A warning or critical RF-* rule is recorded as a red flag at once.
  sdk::Recommend& Add(const std::string& rule_id, v1::Severity severity,
                      v1::Category category,
                      v1::Provenance provenance = v1::PROVENANCE_SAFETY_SCREEN);
  // Blocks each tag for every recommendation that is not safety advice.
  void Block(const std::string& rule_id,
             std::initializer_list<const char*> tags, const std::string& reason,
             std::initializer_list<const char*> sources);
  void Gap(std::string gap) { result_.data_gaps.push_back(std::move(gap)); }

  ScreenResult Take();

 private:
  struct Pending {
    std::string rule_id;
    v1::Provenance provenance;
    sdk::Recommend builder;
  };
  v1::Features& f_;
  std::deque<Pending> pending_;  // Stable references for Add().
  ScreenResult result_;
};

using RuleFn = void (*)(RuleContext& c, RuleSink& s);

struct RuleUnit {
  const char* id;
  const char* contract;
  RuleFn fn;
};

// The table, in run order (rule_table.cc).
const RuleUnit* RuleTable(int* count);

// Text helpers shared by rule units.
std::string Nrs(double v);
std::string Hours(double v);
std::string OnDay(const v1::Feature& f);
std::string OnDay(const v1::Event* e);
// Adds an observation of a symptom flag's latest report.
void ObserveFlag(sdk::Recommend& r, const std::string& label,
                 const std::string& value, const v1::Event* e);
bool IsInsertional(const v1::Features& f);
// The worse of pain during and after the latest session.
const v1::Feature& LoadPainFeature(const v1::Features& f);
bool IsRedFlag(const v1::Features& f, const char* id);
// A feature whose time is older than the clinic's recency window.
bool IsStale(const RuleContext& c, const v1::Feature& f);

// Rule units, one per family (files named after the family).
void RuleRf1PopOrSnap(RuleContext& c, RuleSink& s);         // red_flags
void RuleRf2CannotHeelRaise(RuleContext& c, RuleSink& s);   // red_flags
void RuleRf3Swelling(RuleContext& c, RuleSink& s);          // red_flags
void RuleRf12SpreadingPain(RuleContext& c, RuleSink& s);    // red_flags
void RuleRf4PainNotEasing(RuleContext& c, RuleSink& s);     // load_response
void RuleRf5SlowSettle(RuleContext& c, RuleSink& s);        // load_response
void RuleRf6Limping(RuleContext& c, RuleSink& s);           // load_response
void RuleRf8LoadTooHigh(RuleContext& c, RuleSink& s);       // load_response
void RuleRf7WorseningTrend(RuleContext& c, RuleSink& s);    // trends
void RuleRf9NoImprovement(RuleContext& c, RuleSink& s);     // trends
void RuleRf10TearNotRuledOut(RuleContext& c, RuleSink& s);  // treatments
void RuleRf11Cortisone(RuleContext& c, RuleSink& s);        // treatments
void RuleEAdjuncts(RuleContext& c, RuleSink& s);            // treatments
void RuleCPainPolicy(RuleContext& c, RuleSink& s);          // pain_policy
void RuleLocationBlocks(RuleContext& c, RuleSink& s);       // location
void RuleStageHints(RuleContext& c, RuleSink& s);           // location
void RuleRecency(RuleContext& c, RuleSink& s);              // temporal
void RuleTenPercent(RuleContext& c, RuleSink& s);           // temporal
void RuleBackToBack(RuleContext& c, RuleSink& s);           // temporal
void RuleHardSessions(RuleContext& c, RuleSink& s);         // temporal
void RuleFootwear(RuleContext& c, RuleSink& s);             // general
void RuleFootStrike(RuleContext& c, RuleSink& s);           // general
void RuleKneeToWall(RuleContext& c, RuleSink& s);           // general
void RulePosteriorChain(RuleContext& c, RuleSink& s);       // general
void RuleExpectations(RuleContext& c, RuleSink& s);         // general
void RuleRacing(RuleContext& c, RuleSink& s);               // general
void RuleDataGaps(RuleContext& c, RuleSink& s);             // verdict
void RuleProgressionVerdict(RuleContext& c, RuleSink& s);   // verdict

}  // namespace achilles::engine::engine_internal

#endif  // ACHILLES_SERVICES_ENGINE_RULES_RULE_UNIT_H_
