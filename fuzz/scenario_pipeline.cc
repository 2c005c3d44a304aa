#include "fuzz/scenario_pipeline.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/proto_bytes.h"
#include "fuzz/fuzz_common.h"
#include "plugins/harness/scenario.h"
#include "plugins/host/plugin_host.h"
#include "services/engine/engine.h"
#include "services/engine/features.h"
#include "services/engine/rules/rules.h"
#include "services/validation/validation.h"

namespace achilles::fuzz {
namespace {

void CheckEvaluation(const v1::Evaluation& ev) {
  for (const auto& r : ev.recommendations()) {
    ACH_FUZZ_CHECK(!r.id().empty(), "recommendation without id");
    ACH_FUZZ_CHECK(!r.summary().empty(), "recommendation without summary");
    ACH_FUZZ_CHECK(!r.rationale().rule_id().empty(),
                   "recommendation without a rationale rule id");
  }
}

}  // namespace

void RunScenarioPipeline(const achilles::harness::Scenario& s) {
  auto events = harness::MaterializeEvents(s);
  auto as_of = harness::AsOfMicros(s);
  if (!events.ok() || !as_of.ok()) return;
  auto timeline =
      harness::ServerTimeline(*std::move(events), *as_of, kNowMicros);
  if (!timeline.ok()) return;
  // The engine only ever sees a policy the server accepted (SetPolicy
  // validates before storing), normalized as Engine::CurrentPolicy does.
  v1::ClinicPolicy policy = s.policy();
  if (!validation::ValidatePolicy(policy).ok()) return;
  engine::NormalizePolicy(&policy);

  v1::Features features = engine::ComputeFeatures(*timeline, *as_of, policy);
  engine::ScreenResult screen =
      engine::RunBuiltInRules(*timeline, *as_of, policy, &features);
  for (const auto& r : screen.recommendations) {
    ACH_FUZZ_CHECK(!r.rationale().rule_id().empty(),
                   "built-in advice without a rule id");
  }

  // The whole pipeline with no plugins; twice, as the same inputs must give
  // the same bytes (ARCHITECTURE.md, Determinism).
  const plugins::PluginSet no_plugins;
  const engine::TimelineInput input{"fuzz-clinic", "fuzz-patient", *as_of,
                                    &*timeline, &policy};
  const v1::Evaluation first =
      engine::EvaluateTimeline(input, no_plugins, absl::Seconds(1));
  CheckEvaluation(first);
  const v1::Evaluation second =
      engine::EvaluateTimeline(input, no_plugins, absl::Seconds(1));
  ACH_FUZZ_CHECK(DeterministicBytes(first) == DeterministicBytes(second),
                 "same inputs gave different evaluations");
}

}  // namespace achilles::fuzz
