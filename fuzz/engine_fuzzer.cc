// The engine: a Scenario in protobuf binary (seeds: tests/scenarios/*.json
// converted), so mutations reach event fields and policies rather than JSON
// syntax; then the harness and engine path of fuzz/scenario_pipeline.h.
#include <cstddef>
#include <cstdint>

#include "achilles/harness/scenario.pb.h"
#include "fuzz/fuzz_common.h"
#include "fuzz/scenario_pipeline.h"

ACH_FUZZ_INITIALIZE()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  achilles::harness::Scenario scenario;
  if (!scenario.ParseFromArray(data, static_cast<int>(size))) return 0;
  achilles::fuzz::RunScenarioPipeline(scenario);
  return 0;
}
