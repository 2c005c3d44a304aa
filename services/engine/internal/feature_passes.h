// The feature passes ComputeFeatures runs, in this order, over one
// TimelineView. Each pass fills one family of fields of v1::Features and may
// read fields an earlier pass filled (noted at each). Internal to the engine;
// every pass is pure and has unit tests in tests/engine/.
#ifndef ACHILLES_SERVICES_ENGINE_INTERNAL_FEATURE_PASSES_H_
#define ACHILLES_SERVICES_ENGINE_INTERNAL_FEATURE_PASSES_H_

#include "achilles/v1/evaluation.pb.h"
#include "services/engine/internal/timeline_view.h"

namespace achilles::engine::engine_internal {

using FeaturePass = void (*)(const TimelineView& view, v1::Features* f);

struct FeaturePassEntry {
  const char* name;
  FeaturePass pass;
};

// Location, stage (and when it was recorded), nodule, tear, heel-raise test,
// knee-to-wall, partial tear: the latest finding that sets a field wins.
void FindingsPass(const TimelineView& view, v1::Features* f);
// VISA-A, footwear, treatment requests and training goals.
void RecordsPass(const TimelineView& view, v1::Features* f);
// Event count and days of history.
void HistoryPass(const TimelineView& view, v1::Features* f);
// Latest standalone pain rating per activity.
void LatestPainPass(const TimelineView& view, v1::Features* f);
// The most recent session with a pain response, and its pain zone.
void LastLoadPass(const TimelineView& view, v1::Features* f);
// Limping: the latest report (session, pain report or symptom flag) wins.
void LimpingPass(const TimelineView& view, v1::Features* f);
// Morning-stiffness reports and consecutive worse mornings.
void MorningPass(const TimelineView& view, v1::Features* f);
// Run volume, the 10% rule, settle times, flares, cadence, foot strike.
void RunVolumePass(const TimelineView& view, v1::Features* f);
// Walk-jog ladder level, good sessions at it, and the D4 final stage.
void LadderPass(const TimelineView& view, v1::Features* f);
// Back-to-back run days, runs and rest days per week, hard runs < 48 h.
void RunPatternPass(const TimelineView& view, v1::Features* f);
// HSR week, isometric holds, pain after exercise, days on programme.
void ExercisePass(const TimelineView& view, v1::Features* f);
// Four weekly summaries and the pain trend over the policy's trend window.
void WeeklyTrendPass(const TimelineView& view, v1::Features* f);
// Stiffness trend from weekly values and from the patient's comparisons.
// Reads weeks (WeeklyTrendPass).
void StiffnessTrendPass(const TimelineView& view, v1::Features* f);
// Irritability over time. Reads single_leg_heel_raise_pain (FindingsPass).
void IrritabilityPass(const TimelineView& view, v1::Features* f);
// Age of each input against the recency window.
void RecencyPass(const TimelineView& view, v1::Features* f);

// The passes in the order ComputeFeatures runs them.
const FeaturePassEntry* FeaturePasses(int* count);

}  // namespace achilles::engine::engine_internal

#endif  // ACHILLES_SERVICES_ENGINE_INTERNAL_FEATURE_PASSES_H_
