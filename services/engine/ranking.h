// Ranking and contraindication filtering: the one place that decides the
// order of advice.
//
// Order (first difference wins):
//   1. severity, critical > warning > info;
//   2. category: safety, referral, load management, return to run, exercise,
//      footwear, expectations, data request (running advice first among
//      protocol advice:
//      the next run is the patient's biggest single load, so a wrong call
//      there costs most);
//   3. plugin-given priority, higher first;
//   4. recommendation id, byte order (stable and deterministic).
// Contraindications suppress every plugin candidate that carries a blocked
// tag; advice with provenance SAFETY_SCREEN (stamped by the engine, never
// by a plugin) is never suppressed. Pure; thread-safe.
#ifndef ACHILLES_SERVICES_ENGINE_RANKING_H_
#define ACHILLES_SERVICES_ENGINE_RANKING_H_

#include <vector>

#include "achilles/v1/evaluation.pb.h"

namespace achilles::engine {

int CategoryOrder(achilles::v1::Category category);

// Moves candidates blocked by any contraindication from `candidates` into
// `suppressed`, with the contraindication's reason and source.
void ApplyContraindications(
    const std::vector<achilles::v1::Contraindication>& contraindications,
    std::vector<achilles::v1::Recommendation>* candidates,
    std::vector<achilles::v1::SuppressedRecommendation>* suppressed);

// Sorts by the order above and sets rank 1..n.
void Rank(std::vector<achilles::v1::Recommendation>* recommendations);

}  // namespace achilles::engine

#endif  // ACHILLES_SERVICES_ENGINE_RANKING_H_
