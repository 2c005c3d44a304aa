#include "services/engine/features.h"

#include "services/engine/internal/feature_passes.h"
#include "services/engine/internal/timeline_view.h"

namespace achilles::engine {
namespace {

using namespace engine_internal;  // NOLINT: the passes, by name below.

// Order matters where a pass reads what an earlier one wrote (noted in
// feature_passes.h).
constexpr FeaturePassEntry kPasses[] = {
    {"findings", &FindingsPass},
    {"records", &RecordsPass},
    {"history", &HistoryPass},
    {"latest_pain", &LatestPainPass},
    {"last_load", &LastLoadPass},
    {"limping", &LimpingPass},
    {"morning", &MorningPass},
    {"run_volume", &RunVolumePass},
    {"ladder", &LadderPass},
    {"run_pattern", &RunPatternPass},
    {"exercise", &ExercisePass},
    {"weekly_trend", &WeeklyTrendPass},
    {"stiffness_trend", &StiffnessTrendPass},
    {"irritability", &IrritabilityPass},
    {"recency", &RecencyPass},
};

}  // namespace

namespace engine_internal {
const FeaturePassEntry* FeaturePasses(int* count) {
  *count = static_cast<int>(sizeof(kPasses) / sizeof(kPasses[0]));
  return kPasses;
}
}  // namespace engine_internal

int GreenCeiling(const v1::ClinicPolicy& policy) {
  if (policy.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5) {
    const int max_ok =
        policy.silbernagel_max_ok() > 0 ? policy.silbernagel_max_ok() : 5;
    return policy.silbernagel_strictly_below() ? max_ok - 1 : max_ok;
  }
  return 3;
}

const char* PainModelName(const v1::ClinicPolicy& policy) {
  if (policy.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5) {
    return policy.silbernagel_strictly_below()
               ? "Silbernagel pain-monitoring, pain must stay below the limit "
                 "(SIL, S1)"
               : "Silbernagel pain-monitoring (SIL)";
  }
  return "traffic light: 0-3 green, 4-5 amber, 6+ red (S4, S3)";
}

v1::PainZone ZoneFor(int pain, bool response_ok,
                     const v1::ClinicPolicy& policy) {
  if (policy.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5) {
    if (pain > GreenCeiling(policy)) return v1::PAIN_ZONE_RED;
    return response_ok ? v1::PAIN_ZONE_GREEN : v1::PAIN_ZONE_AMBER;
  }
  if (pain <= 3) return v1::PAIN_ZONE_GREEN;
  if (pain <= 5) return v1::PAIN_ZONE_AMBER;
  return v1::PAIN_ZONE_RED;
}

v1::Features ComputeFeatures(storage::EventSpan timeline, int64_t as_of_us,
                             const v1::ClinicPolicy& policy) {
  v1::Features f;
  f.set_event_count(static_cast<int>(timeline.size()));
  if (timeline.empty()) return f;
  const TimelineView view = BuildTimelineView(timeline, as_of_us, policy);
  for (const auto& entry : kPasses) entry.pass(view, &f);
  return f;
}

}  // namespace achilles::engine
