// The built-in safety screen (CLINICAL.md B and C). It runs before any plugin,
// is compiled into the server, and cannot be disabled or unloaded.
//
// It turns red flags and the clinic's pain model into recommendations
// (plugin_id "safety") and contraindications that suppress conflicting
// plugin advice, and it records which flags fired in the features so plugins
// can honour their entry criteria. Pure and deterministic; thread-safe.
#ifndef ACHILLES_SERVICES_ENGINE_SAFETY_SCREEN_H_
#define ACHILLES_SERVICES_ENGINE_SAFETY_SCREEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"
#include "achilles/v1/policy.pb.h"

namespace achilles::engine {

struct ScreenResult {
  std::vector<achilles::v1::Recommendation> recommendations;
  std::vector<achilles::v1::Contraindication> contraindications;
  // Plain-words gaps; the engine turns them into data-request advice.
  std::vector<std::string> data_gaps;
};

// Screens the timeline. Updates `features` in place: red_flags,
// worst_red_flag, progression_allowed and progression_blocked_because.
ScreenResult RunSafetyScreen(const std::vector<achilles::v1::Event>& timeline,
                             int64_t as_of_us,
                             const achilles::v1::ClinicPolicy& policy,
                             achilles::v1::Features* features);

}  // namespace achilles::engine

#endif  // ACHILLES_SERVICES_ENGINE_SAFETY_SCREEN_H_
