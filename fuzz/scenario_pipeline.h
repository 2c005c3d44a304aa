// The path of a scenario through the harness and the engine, shared by the
// scenario fuzz targets: MaterializeEvents and AsOfMicros, ServerTimeline
// (the server's validation and order), the policy as the server would accept
// it, then ComputeFeatures + RunBuiltInRules and the whole EvaluateTimeline
// with no plugins. Aborts when a documented property does not hold.
#ifndef ACHILLES_FUZZ_SCENARIO_PIPELINE_H_
#define ACHILLES_FUZZ_SCENARIO_PIPELINE_H_

#include "achilles/harness/scenario.pb.h"

namespace achilles::fuzz {

void RunScenarioPipeline(const achilles::harness::Scenario& scenario);

}  // namespace achilles::fuzz

#endif  // ACHILLES_FUZZ_SCENARIO_PIPELINE_H_
