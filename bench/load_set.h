// The set of load phases achilles-load runs against one server: seed every
// client's own patients, then Ping (the baseline), AppendEvents (one event
// per call), Evaluate on each timeline length, and Evaluate on one length
// again, paced at a fraction of the rate just measured for it.
#ifndef ACHILLES_BENCH_LOAD_SET_H_
#define ACHILLES_BENCH_LOAD_SET_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/phase_runner.h"

namespace achilles::bench {

struct LoadConfig {
  int clients = 8;
  double seconds = 3;
  double warmup_seconds = 0.5;
  std::vector<int> sizes;  // Timeline lengths to evaluate.
  int patients_per_client = 4;
  int paced_size = 1000;        // Not in `sizes`: no paced phase.
  double paced_fraction = 0.5;  // Of that size's measured req/s.
  std::chrono::milliseconds rpc_deadline{10000};
};

struct NamedPhase {
  std::string name;
  PhaseResult result;
};

// Where to run: `prefix` makes the patient ids unique to this run;
// `server_pid` 0 leaves server CPU unmeasured.
struct LoadTarget {
  std::string address;
  std::string token;  // Must carry the ehr role.
  pid_t server_pid = 0;
  std::string prefix;
};

std::string EvaluatePhaseName(int size);
std::string PacedPhaseName(const LoadConfig& config);

// Fails only when seeding fails; failed calls in a phase are counted in
// its result instead. `progress` names the run in the lines printed to
// stderr as phases finish.
absl::StatusOr<std::vector<NamedPhase>> RunLoadSet(const LoadTarget& target,
                                                   const LoadConfig& config,
                                                   const std::string& progress);

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_LOAD_SET_H_
