// The load generator's patients. Every client has its own: for each
// timeline length (--sizes) `patients_per_client` patients with that many
// events, from the synthetic caseload generator (cli/demo_caseload.h;
// patient k of client c has the same clinical pattern at every length),
// and `patients_per_client` empty patients it appends to. Ids start with
// a per-run prefix, so runs against one --target server never collide.
#ifndef ACHILLES_BENCH_FIXTURES_H_
#define ACHILLES_BENCH_FIXTURES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "achilles/v1/events.pb.h"
#include "bench/clients.h"

namespace achilles::bench {

struct FixtureSpec {
  std::string prefix;
  int clients = 0;
  int patients_per_client = 0;
  std::vector<int> sizes;
  int64_t end_us = 0;  // The last seeded event's time.
};

std::string EvaluatePatientId(const FixtureSpec& spec, int size, int client,
                              int k);
std::string AppendPatientId(const FixtureSpec& spec, int client, int k);

// Seeds every client's patients, the clients in parallel (as many EHRs
// would), in AppendEvents calls of 500 events. The first error, if any.
absl::Status SeedFixtures(const Clients& clients, const FixtureSpec& spec);

// The i-th event one client appends in the AppendEvents phase: one
// session or pain report, as an EHR sends after each visit.
v1::Event AppendedEvent(long i, int64_t at_us);

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_FIXTURES_H_
