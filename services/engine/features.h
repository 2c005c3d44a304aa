// Feature derivation: turns a timeline into the numbers the built-in rules
// and plugins reason about (achilles.v1.Features): the latest values, and
// the temporal features (recency, weekly aggregates and trends, load and
// its spikes, run pattern, irritability) documented in
// docs/clinical/RULES.md.
//
// ComputeFeatures runs a table of small passes (services/engine/internal/
// feature_passes.h), one per family of features, over one shared reading of
// the timeline. Pure functions of (timeline, as_of, policy): no clock, no
// I/O, so the same inputs give the same features byte for byte. Events after
// as_of must already be filtered out by the caller. Thread-safe.
#ifndef ACHILLES_SERVICES_ENGINE_FEATURES_H_
#define ACHILLES_SERVICES_ENGINE_FEATURES_H_

#include <cstdint>
#include <vector>

#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"
#include "achilles/v1/policy.pb.h"
#include "storage/timeline_store.h"

namespace achilles::engine {

// Clinic-policy defaults that are not clinical numbers from the sources
// (docs/clinical/POLICY_SIGNOFF.md): data older than 14 days cannot justify
// progression; trends are judged over 3 weekly windows (inside the sourced
// 2-4 weeks).
inline constexpr int kDefaultRecencyWindowDays = 14;
inline constexpr int kDefaultTrendWeeks = 3;

// `timeline` must be ordered by occurred_at then event_id, as the store
// returns it.
achilles::v1::Features ComputeFeatures(
    storage::EventSpan timeline, int64_t as_of_us,
    const achilles::v1::ClinicPolicy& policy);

// Pain zone of one rating under the clinic's pain model (rule C):
// TRAFFIC_LIGHT_3_5: <=3 green, 4-5 amber, >=6 red. SILBERNAGEL_5: above
// max_ok red; at or below it green only if the 24 h response is good (the
// caller passes that in), else amber.
achilles::v1::PainZone ZoneFor(int pain, bool response_ok,
                               const achilles::v1::ClinicPolicy& policy);

// Highest pain still "green" under the policy, for rationale text.
int GreenCeiling(const achilles::v1::ClinicPolicy& policy);

// Human name of the pain model, e.g. "traffic light 3/5 (S4, S3)".
const char* PainModelName(const achilles::v1::ClinicPolicy& policy);

}  // namespace achilles::engine

#endif  // ACHILLES_SERVICES_ENGINE_FEATURES_H_
