// Runs one load phase: `clients` threads call one RPC for a fixed time,
// either back to back (closed loop: the most the server gives) or paced
// at a target rate (each thread sends on a fixed schedule, and latency
// counts from the scheduled send time, so a server that falls behind shows
// it in p99 instead of slowing the load down). Records latency, errors
// and, given the server's pid, the server tree's CPU over the phase.
#ifndef ACHILLES_BENCH_PHASE_RUNNER_H_
#define ACHILLES_BENCH_PHASE_RUNNER_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace achilles::bench {

// One request from client thread `client`; `i` counts that client's calls
// over the warm-up and the phase, so ids made from it never repeat.
using Call = std::function<grpc::Status(int client, long i)>;

struct PhaseOptions {
  int clients = 8;
  double seconds = 3;
  double warmup_seconds = 0.5;  // Closed loop, not measured.
  double paced_rps = 0;         // 0 = closed loop.
  pid_t server_pid = 0;         // 0 = server CPU unknown.
};

struct PhaseResult {
  long requests = 0;  // Completed, failed ones included.
  long errors = 0;
  std::string first_error;  // "CODE: message" of the first failure.
  double seconds = 0;
  double rps = 0;
  double p50_us = 0;
  double p99_us = 0;
  double server_cpu_us = -1;  // Whole phase; -1 = not measured.
  int server_children = 0;    // Live child processes at the end.
  double client_cpu_us = 0;
  double offered_rps = 0;  // Paced phases only.

  bool has_server_cpu() const { return server_cpu_us >= 0; }
  double server_cpu_per_request() const;
  double client_cpu_per_request() const;
};

PhaseResult RunPhase(const PhaseOptions& options, const Call& call);

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_PHASE_RUNNER_H_
