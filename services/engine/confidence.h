// Overall confidence and completeness of an evaluation, so an incomplete
// one never looks as sure as a full one.
//
// Level (the contract; reasons say which applied):
//   LOW      an enabled plugin failed, an input is older than the recency
//            window, or the only advice is data requests;
//   MODERATE every plugin answered and data is current, but the timeline
//            has data gaps;
//   HIGH     complete: every enabled plugin answered, no gap, no stale
//            input.
// The number (0-1) is a display aid: the lowest confidence among the
// active non-data-request advice, times the share of enabled plugins that
// answered, halved when an input is stale; 0 when only data requests
// remain. Pure; thread-safe.
#ifndef ACHILLES_SERVICES_ENGINE_CONFIDENCE_H_
#define ACHILLES_SERVICES_ENGINE_CONFIDENCE_H_

#include "achilles/v1/evaluation.pb.h"

namespace achilles::engine {

// Fills completeness, confidence_level, confidence and confidence_reasons
// from the evaluation's plugins, data gaps, features and recommendations.
void AssessConfidence(achilles::v1::Evaluation* evaluation);

}  // namespace achilles::engine

#endif  // ACHILLES_SERVICES_ENGINE_CONFIDENCE_H_
