// Load generator for achilles-server. Drives a server with concurrent gRPC
// clients and reports throughput and latency for Ping (baseline),
// AppendEvents and Evaluate on 100- and 1000-event timelines, each as a
// ratio to Ping measured in the same run.
//
//   achilles-load --clients=8 --seconds=3              # starts its own server
//   achilles-load --target=127.0.0.1:50051             # an already running one
//
// Requests go to loopback only; every phase is bounded in time.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "common/time_util.h"
#include "services/server/server.h"

ABSL_FLAG(std::string, token_file, "",
          "with --target: file holding a token with the ehr role");
ABSL_FLAG(std::string, target, "",
          "server address; empty starts an in-process server on a temp dir");
ABSL_FLAG(std::string, plugin_dir, "",
          "plugins for the in-process server (default: build/plugins.d)");
ABSL_FLAG(int, clients, 8, "concurrent client threads");
ABSL_FLAG(double, seconds, 3.0, "duration of each phase");
ABSL_FLAG(bool, sync_writes, true, "in-process server: fsync every write");
ABSL_FLAG(bool, compare_isolation, true,
          "also run the Evaluate phases with --plugin_isolation=process and "
          "report the overhead");

namespace {

namespace v1 = achilles::v1;
using Clock = std::chrono::steady_clock;

struct Result {
  std::string name;
  double rps = 0;
  double p50_us = 0;
  double p99_us = 0;
  long errors = 0;
};

// Runs `call(thread, i)` from every client thread for the phase duration.
Result RunPhase(const std::string& name,
                const std::function<bool(int, long)>& call) {
  const int clients = absl::GetFlag(FLAGS_clients);
  const auto duration =
      std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds));
  std::vector<std::vector<double>> lat(clients);
  std::atomic<long> errors{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(duration);
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      for (long i = 0; Clock::now() < end; ++i) {
        const auto t0 = Clock::now();
        if (!call(t, i)) ++errors;
        lat[t].push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - t0)
                .count());
      }
    });
  }
  for (auto& th : threads) th.join();
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.name = name;
  r.errors = errors;
  r.rps = all.size() / elapsed;
  if (!all.empty()) {
    r.p50_us = all[all.size() / 2];
    r.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return r;
}

v1::Event BenchEvent(const std::string& id, int64_t at, int i) {
  v1::Event e;
  e.set_event_id(id);
  *e.mutable_occurred_at() = achilles::FromMicros(at);
  switch (i % 4) {
    case 0: {
      auto* r = e.mutable_run_session();
      r->set_duration_minutes(30);
      r->set_distance_km(5);
      r->mutable_response()->set_pain_during(i % 5);
      r->mutable_response()->set_settle_time_hours(12);
      r->mutable_response()->set_morning_vs_baseline(v1::COMPARISON_SAME);
      break;
    }
    case 1: {
      auto* x = e.mutable_exercise_session();
      x->set_programme(v1::PROGRAMME_HEAVY_SLOW_RESISTANCE);
      x->set_programme_week(1 + (i / 12) % 12);
      x->set_sets(3);
      x->set_reps(12);
      x->mutable_response()->set_pain_after(2);
      break;
    }
    case 2:
      e.mutable_pain_report()->set_activity(v1::ACTIVITY_WALKING);
      e.mutable_pain_report()->mutable_response()->set_pain_during(2);
      break;
    default:
      e.mutable_morning_stiffness()->set_vs_baseline(v1::COMPARISON_SAME);
  }
  return e;
}

struct Suite {
  std::vector<Result> results;
  std::string target;
  bool in_process = false;
};

// Starts an in-process server (unless --target), loads fixtures and runs
// the phases. `evaluate_only` skips Ping and AppendEvents.
Suite RunSuite(achilles::plugins::Isolation isolation, bool evaluate_only) {
  Suite suite;
  std::string target = absl::GetFlag(FLAGS_target);
  std::unique_ptr<achilles::server::Server> server;
  std::string tmp;
  std::string token;
  if (!absl::GetFlag(FLAGS_token_file).empty()) {
    std::ifstream in(absl::GetFlag(FLAGS_token_file));
    in >> token;
  }
  if (target.empty()) {
    tmp = (std::filesystem::temp_directory_path() / "achilles-load-XXXXXX");
    if (mkdtemp(tmp.data()) == nullptr) std::exit(2);
    achilles::server::ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = tmp + "/data";
    options.plugin_dir = absl::GetFlag(FLAGS_plugin_dir).empty()
                             ? std::string(BUNDLED_PLUGIN_DIR)
                             : absl::GetFlag(FLAGS_plugin_dir);
    options.sync_writes = absl::GetFlag(FLAGS_sync_writes);
    options.plugin_isolation = isolation;
    options.plugin_worker = WORKER_BINARY;
    // The benchmark measures the server, not its per-clinic rate limit.
    options.clinic_requests_per_second = 0;
    auto s = achilles::server::Server::Start(options);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      std::exit(1);
    }
    server = *std::move(s);
    v1::IssueTokenRequest issue;
    issue.set_subject("achilles-load");
    issue.set_clinic_id("default");
    issue.add_roles(v1::ROLE_EHR);
    auto issued = server->backend()->gate->credentials()->Issue(
        issue, "achilles-load", achilles::NowMicros());
    if (!issued.ok()) std::exit(1);
    token = issued->token();
    target = absl::StrCat("127.0.0.1:", server->port());
    suite.in_process = true;
  }
  suite.target = target;
  const int clients = absl::GetFlag(FLAGS_clients);
  // One channel per client thread, as separate EHR connections would be.
  std::vector<std::unique_ptr<v1::PatientService::Stub>> patients;
  std::vector<std::unique_ptr<v1::DecisionService::Stub>> decisions;
  for (int t = 0; t < clients; ++t) {
    grpc::ChannelArguments args;
    args.SetInt("bench_channel", t);  // Distinct channels, not shared.
    auto ch = grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args);
    patients.push_back(v1::PatientService::NewStub(ch));
    decisions.push_back(v1::DecisionService::NewStub(ch));
  }
  auto deadline = [&token](grpc::ClientContext* c) {
    c->AddMetadata("authorization", "Bearer " + token);
    c->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(30));
  };

  // Fixtures: two patients with 100 and 1000 events, plus one per client
  // for appends.
  const int64_t now = achilles::NowMicros();
  for (auto [id, n] :
       {std::pair<std::string, int>{"bench-100", 100}, {"bench-1000", 1000}}) {
    grpc::ClientContext c;
    deadline(&c);
    v1::UpsertPatientRequest up;
    v1::UpsertPatientResponse ur;
    up.mutable_patient()->set_patient_id(id);
    patients[0]->UpsertPatient(&c, up, &ur);
    for (int start = 0; start < n; start += 500) {
      v1::AppendEventsRequest req;
      req.set_patient_id(id);
      for (int i = start; i < std::min(n, start + 500); ++i) {
        // Spread over the last n days, oldest first.
        *req.add_events() =
            BenchEvent(absl::StrCat("e", i),
                       now - (n - i) * achilles::kMicrosPerDay / 2, i);
      }
      grpc::ClientContext ac;
      deadline(&ac);
      v1::AppendEventsResponse ar;
      auto st = patients[0]->AppendEvents(&ac, req, &ar);
      if (!st.ok()) {
        std::fprintf(stderr, "fixture append failed: %s\n",
                     st.error_message().c_str());
        std::exit(1);
      }
    }
  }
  for (int t = 0; t < clients; ++t) {
    grpc::ClientContext c;
    deadline(&c);
    v1::UpsertPatientRequest up;
    v1::UpsertPatientResponse ur;
    up.mutable_patient()->set_patient_id(absl::StrCat("append-", t));
    patients[t]->UpsertPatient(&c, up, &ur);
  }

  std::vector<Result>& results = suite.results;
  if (!evaluate_only) {
    results.push_back(RunPhase("Ping", [&](int t, long) {
      grpc::ClientContext c;
      deadline(&c);
      v1::PingRequest req;
      v1::PingResponse resp;
      return decisions[t]->Ping(&c, req, &resp).ok();
    }));
    results.push_back(RunPhase("AppendEvents (1 event)", [&](int t, long i) {
      grpc::ClientContext c;
      deadline(&c);
      v1::AppendEventsRequest req;
      req.set_patient_id(absl::StrCat("append-", t));
      *req.add_events() =
          BenchEvent(absl::StrCat("a", i), now - 1000, static_cast<int>(i));
      v1::AppendEventsResponse resp;
      return patients[t]->AppendEvents(&c, req, &resp).ok();
    }));
  }
  for (const char* id : {"bench-100", "bench-1000"}) {
    results.push_back(RunPhase(
        absl::StrCat("Evaluate (", id + 6, " events)"), [&, id](int t, long) {
          grpc::ClientContext c;
          deadline(&c);
          v1::EvaluateRequest req;
          req.set_patient_id(id);
          v1::EvaluateResponse resp;
          return decisions[t]->Evaluate(&c, req, &resp).ok();
        }));
  }

  if (server) {
    server->Shutdown();
    server.reset();
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
  }
  return suite;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const Suite base = RunSuite(achilles::plugins::Isolation::kInProcess, false);
  const Result& ping = base.results[0];
  std::printf("achilles-load: %d clients, %.1f s per phase, target %s%s\n",
              absl::GetFlag(FLAGS_clients), absl::GetFlag(FLAGS_seconds),
              base.target.c_str(), base.in_process ? " (in-process)" : "");
  std::printf("%-34s %10s %10s %10s %9s %9s %7s\n", "call", "req/s", "p50 us",
              "p99 us", "rps/Ping", "p50/Ping", "errors");
  auto print = [&](const std::string& prefix, const Result& r) {
    std::printf("%-34s %10.0f %10.0f %10.0f %9.3f %9.1f %7ld\n",
                (prefix + r.name).c_str(), r.rps, r.p50_us, r.p99_us,
                r.rps / ping.rps, r.p50_us / ping.p50_us, r.errors);
  };
  for (const auto& r : base.results) print("", r);
  if (absl::GetFlag(FLAGS_compare_isolation) && base.in_process) {
    const Suite iso = RunSuite(achilles::plugins::Isolation::kProcess, true);
    for (const auto& r : iso.results) print("isolated ", r);
    std::printf(
        "\nplugin isolation overhead (process vs in-process, same run):\n");
    for (const auto& r : iso.results) {
      for (const auto& b : base.results) {
        if (b.name != r.name) continue;
        std::printf("  %-26s throughput x%.3f   p50 x%.2f   p99 x%.2f\n",
                    r.name.c_str(), r.rps / b.rps, r.p50_us / b.p50_us,
                    r.p99_us / b.p99_us);
      }
    }
  }
  return 0;
}
