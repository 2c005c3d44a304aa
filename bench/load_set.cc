// The load phases against one server (see load_set.h).
#include "bench/load_set.h"

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "bench/clients.h"
#include "bench/fixtures.h"
#include "common/time_util.h"

namespace achilles::bench {
namespace {

Call PingCall(const Clients& clients) {
  return [&clients](int c, long) {
    grpc::ClientContext ctx;
    clients.Prepare(&ctx);
    v1::PingRequest req;
    v1::PingResponse resp;
    return clients.decisions(c)->Ping(&ctx, req, &resp);
  };
}

// Client c appends to its own patients in turn, one event per call.
Call AppendCall(const Clients& clients, const FixtureSpec& spec) {
  // An hour back, so every event is in the past whatever the clock does.
  const int64_t base = NowMicros() - kMicrosPerHour;
  return [&clients, &spec, base](int c, long i) {
    grpc::ClientContext ctx;
    clients.Prepare(&ctx);
    v1::AppendEventsRequest req;
    req.set_patient_id(AppendPatientId(
        spec, c, static_cast<int>(i % spec.patients_per_client)));
    *req.add_events() = AppendedEvent(i, base + i);
    v1::AppendEventsResponse resp;
    return clients.patients(c)->AppendEvents(&ctx, req, &resp);
  };
}

// Client c evaluates its own patients of `size` events in turn.
Call EvaluateCall(const Clients& clients, const FixtureSpec& spec, int size) {
  return [&clients, &spec, size](int c, long i) {
    grpc::ClientContext ctx;
    clients.Prepare(&ctx);
    v1::EvaluateRequest req;
    req.set_patient_id(EvaluatePatientId(
        spec, size, c, static_cast<int>(i % spec.patients_per_client)));
    v1::EvaluateResponse resp;
    return clients.decisions(c)->Evaluate(&ctx, req, &resp);
  };
}

void PrintProgress(const std::string& progress, const NamedPhase& p) {
  const PhaseResult& r = p.result;
  std::fprintf(stderr,
               "  %s %-26s %9.0f req/s  p50 %8.0f us  p99 %8.0f us  server "
               "CPU %7.0f us/req  %ld errors\n",
               progress.c_str(), p.name.c_str(), r.rps, r.p50_us, r.p99_us,
               r.server_cpu_per_request(), r.errors);
}

}  // namespace

std::string EvaluatePhaseName(int size) {
  return absl::StrCat("Evaluate(", size, ")");
}

std::string PacedPhaseName(const LoadConfig& config) {
  return absl::StrCat(EvaluatePhaseName(config.paced_size), " paced ",
                      static_cast<int>(config.paced_fraction * 100 + 0.5), "%");
}

absl::StatusOr<std::vector<NamedPhase>> RunLoadSet(
    const LoadTarget& target, const LoadConfig& config,
    const std::string& progress) {
  const Clients clients(target.address, target.token, config.clients,
                        config.rpc_deadline);
  FixtureSpec spec{target.prefix, config.clients, config.patients_per_client,
                   config.sizes, NowMicros() - 2 * kMicrosPerDay};
  const auto seed_start = std::chrono::steady_clock::now();
  if (auto st = SeedFixtures(clients, spec); !st.ok()) return st;
  long events = 0;
  for (int size : config.sizes) events += size;
  std::fprintf(stderr, "  %s seeded %ld events for %d clients in %.1f s\n",
               progress.c_str(),
               events * config.clients * config.patients_per_client,
               config.clients,
               std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             seed_start)
                   .count());
  PhaseOptions options{config.clients, config.seconds, config.warmup_seconds, 0,
                       target.server_pid};
  std::vector<NamedPhase> phases;
  auto run = [&](const std::string& name, const Call& call) {
    phases.push_back({name, RunPhase(options, call)});
    PrintProgress(progress, phases.back());
    return phases.back().result;
  };
  run("Ping", PingCall(clients));
  run("AppendEvents", AppendCall(clients, spec));
  double paced_base_rps = 0;
  for (int size : config.sizes) {
    const PhaseResult r =
        run(EvaluatePhaseName(size), EvaluateCall(clients, spec, size));
    if (size == config.paced_size) paced_base_rps = r.rps;
  }
  if (paced_base_rps > 0) {
    options.paced_rps = config.paced_fraction * paced_base_rps;
    run(PacedPhaseName(config), EvaluateCall(clients, spec, config.paced_size));
  }
  return phases;
}

}  // namespace achilles::bench
