// The engine's built-in rules: the safety screen (red flags RF-1..RF-12,
// the clinic's pain policy C, location blocks, temporal checks) and the
// general advice every patient gets (E-*). Compiled into the server, run
// before any plugin, and impossible to disable or unload.
//
// Each rule family is one small function registered in one table
// (rule_table.cc) with a one-line contract; docs/clinical/RULES.md has a
// heading per rule id. Rules turn features into recommendations (with
// provenance SAFETY_SCREEN or ENGINE_RULE, set here, never by a plugin),
// contraindications that suppress conflicting advice, and data gaps. They
// record in the features which red flags fired and whether progression is
// allowed, so plugins honour entry criteria without re-deriving them.
// Pure and deterministic; thread-safe.
#ifndef ACHILLES_SERVICES_ENGINE_RULES_RULES_H_
#define ACHILLES_SERVICES_ENGINE_RULES_RULES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"
#include "achilles/v1/policy.pb.h"
#include "storage/timeline_store.h"

namespace achilles::engine {

// The id prefixes of built-in advice ("safety/RF-4", "engine/E-EXPECT").
inline constexpr char kSafetyScreenId[] = "safety";
inline constexpr char kEngineRuleId[] = "engine";

struct ScreenResult {
  std::vector<achilles::v1::Recommendation> recommendations;
  std::vector<achilles::v1::Contraindication> contraindications;
  // Plain-words gaps; the engine turns them into data-request advice.
  std::vector<std::string> data_gaps;
};

// Runs every built-in rule. Updates `features` in place: red_flags,
// worst_red_flag, progression_allowed and progression_blocked_because.
// `features` must come from ComputeFeatures over the same inputs.
ScreenResult RunBuiltInRules(storage::EventSpan timeline, int64_t as_of_us,
                             const achilles::v1::ClinicPolicy& policy,
                             achilles::v1::Features* features);

// Rule ids and one-line contracts, in the order they run (for docs and
// tests).
struct RuleInfo {
  const char* id;
  const char* contract;
};
std::vector<RuleInfo> BuiltInRuleList();

}  // namespace achilles::engine

#endif  // ACHILLES_SERVICES_ENGINE_RULES_RULES_H_
