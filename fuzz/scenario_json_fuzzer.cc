// Scenario decoding: bytes as a scenario file (protobuf JSON, as
// harness::LoadScenario reads it), then the scenario through the harness and
// the engine (fuzz/scenario_pipeline.h). Seeds: tests/scenarios/*.json.
#include <cstddef>
#include <cstdint>
#include <string>

#include "achilles/harness/scenario.pb.h"
#include "fuzz/fuzz_common.h"
#include "fuzz/scenario_pipeline.h"
#include "google/protobuf/util/json_util.h"

ACH_FUZZ_INITIALIZE()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  achilles::harness::Scenario scenario;
  // The same call as LoadScenario, minus the file read.
  if (!google::protobuf::util::JsonStringToMessage(text, &scenario).ok()) {
    return 0;
  }
  achilles::fuzz::RunScenarioPipeline(scenario);
  return 0;
}
