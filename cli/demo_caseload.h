// Synthetic caseloads for demos and benchmarks, built from the clinical
// reference's patterns (walk-jog ladders with and without flares, HSR weeks,
// insertional loading, reactive tendons, runners, worsening trends, the odd
// red flag).
// Deterministic for a given seed and patient index.
#ifndef ACHILLES_CLI_DEMO_CASELOAD_H_
#define ACHILLES_CLI_DEMO_CASELOAD_H_

#include <cstdint>
#include <vector>

#include "achilles/v1/events.pb.h"

namespace achilles::cli {

// About `events` events for patient `index`, the last one at `end_us`,
// ordered by time.
std::vector<achilles::v1::Event> DemoTimeline(uint64_t seed, int index,
                                              int events, int64_t end_us);

}  // namespace achilles::cli

#endif  // ACHILLES_CLI_DEMO_CASELOAD_H_
