// Caseload re-evaluation benchmark. Seeds a store with a synthetic caseload
// (default 10,000 patients x 100 events, plus a 2,000-patient clinic to show
// memory does not grow with caseload size), then measures in one run:
//   - a scan-only pass (read and decode every timeline, same thread count):
//     the baseline;
//   - a full CaseloadService.ReEvaluate over loopback gRPC: patients/s and
//     its ratio to the scan;
//   - interactive Evaluate p50/p99 while idle and while the batch runs;
//   - resident memory: peak growth during the small and the big run.
//
//   achilles-caseload-bench [--patients=10000] [--events=100]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "achilles/v1/caseload_service.grpc.pb.h"
#include "achilles/v1/decision_service.grpc.pb.h"
#include "cli/demo_caseload.h"
#include "common/time_util.h"
#include "services/server/server.h"
#include "storage/timeline_store.h"

ABSL_FLAG(int, patients, 10000, "patients in the big clinic");
ABSL_FLAG(int, small_patients, 2000, "patients in the small clinic");
ABSL_FLAG(int, events, 100, "events per patient");
ABSL_FLAG(int, workers, 0, "caseload workers (0 = one per core)");
ABSL_FLAG(int, store_cache_mb, 16, "RocksDB block cache for the run");
ABSL_FLAG(int, store_memtable_mb, 16, "RocksDB memtable budget for the run");
ABSL_FLAG(std::string, plugin_isolation, "process",
          "process (the server's default) or inprocess");

namespace {

namespace v1 = achilles::v1;
using Clock = std::chrono::steady_clock;

long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Latency {
  double p50 = 0, p99 = 0;
  size_t n = 0;
};

Latency Summarize(std::vector<double> v) {
  Latency l;
  if (v.empty()) return l;
  std::sort(v.begin(), v.end());
  l.n = v.size();
  l.p50 = v[v.size() / 2];
  l.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int big = absl::GetFlag(FLAGS_patients);
  const int small = absl::GetFlag(FLAGS_small_patients);
  const int events = absl::GetFlag(FLAGS_events);
  std::string tmp =
      (std::filesystem::temp_directory_path() / "achilles-cbench-XXXXXX");
  if (mkdtemp(tmp.data()) == nullptr) return 2;
  const std::string data = tmp + "/data";
  const int64_t end = achilles::NowMicros() - achilles::kMicrosPerDay;

  // Seed directly through the store (no fsync: this is setup, not measured).
  {
    achilles::storage::StoreOptions so;
    so.path = data;
    so.sync_writes = false;
    auto store = achilles::storage::OpenRocksDbStore(so);
    if (!store.ok()) return 1;
    const auto t0 = Clock::now();
    for (auto [clinic, n] :
         {std::pair<std::string, int>{"big", big}, {"small", small}}) {
      for (int i = 0; i < n; ++i) {
        v1::Patient p;
        p.set_patient_id(absl::StrFormat("p%06d", i));
        (*store)->UpsertPatient(clinic, p).IgnoreError();
        auto timeline = achilles::cli::DemoTimeline(7, i, events, end);
        auto r = (*store)->AppendEvents(clinic, p.patient_id(), timeline);
        if (!r.ok()) {
          std::fprintf(stderr, "seed: %s\n", r.status().ToString().c_str());
          return 1;
        }
      }
    }
    (*store)->Flush().IgnoreError();
    std::printf("seeded %d + %d patients x %d events in %.1f s\n", big, small,
                events, Seconds(t0, Clock::now()));
  }

  achilles::server::ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.data_dir = data;
  options.plugin_dir = BUNDLED_PLUGIN_DIR;
  options.caseload_workers = absl::GetFlag(FLAGS_workers);
  options.store_cache_mb = absl::GetFlag(FLAGS_store_cache_mb);
  options.store_memtable_mb = absl::GetFlag(FLAGS_store_memtable_mb);
  options.plugin_isolation =
      absl::GetFlag(FLAGS_plugin_isolation) == "inprocess"
          ? achilles::plugins::Isolation::kInProcess
          : achilles::plugins::Isolation::kProcess;
  options.plugin_worker = WORKER_BINARY;
  options.clinic_requests_per_second = 0;  // Measure the run, not the limit.
  auto server = achilles::server::Server::Start(options);
  if (!server.ok()) return 1;
  std::map<std::string, std::string> tokens;
  for (const char* clinic : {"big", "small"}) {
    v1::IssueTokenRequest issue;
    issue.set_subject("caseload-bench");
    issue.set_clinic_id(clinic);
    issue.add_roles(v1::ROLE_EHR);
    issue.add_roles(v1::ROLE_CLINIC_ADMIN);
    auto issued = (*server)->backend()->gate->credentials()->Issue(
        issue, "caseload-bench", achilles::NowMicros());
    if (!issued.ok()) return 1;
    tokens[clinic] = issued->token();
  }
  auto* store = (*server)->backend()->store;
  const int workers =
      options.caseload_workers > 0
          ? options.caseload_workers
          : static_cast<int>(std::thread::hardware_concurrency());

  // Baseline: read and decode every timeline of the big clinic, in parallel.
  std::vector<std::string> ids;
  store
      ->ForEachPatientId("big",
                         [&](const std::string& id) {
                           ids.push_back(id);
                           return absl::OkStatus();
                         })
      .IgnoreError();
  std::atomic<size_t> next{0};
  std::atomic<long> decoded{0};
  const auto s0 = Clock::now();
  {
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) {
      pool.emplace_back([&] {
        for (size_t i = next++; i < ids.size(); i = next++) {
          auto t = store->LoadTimeline("big", ids[i], end + 1);
          if (t.ok()) decoded += static_cast<long>(t->size());
        }
      });
    }
    for (auto& t : pool) t.join();
  }
  const double scan_s = Seconds(s0, Clock::now());
  ids.clear();
  ids.shrink_to_fit();

  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials());
  auto decisions = v1::DecisionService::NewStub(channel);
  auto caseload = v1::CaseloadService::NewStub(channel);
  auto evaluate_once = [&](const std::string& clinic) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + tokens[clinic]);
    v1::EvaluateRequest req;
    req.set_patient_id("p000001");
    v1::EvaluateResponse resp;
    const auto t0 = Clock::now();
    auto st = decisions->Evaluate(&ctx, req, &resp);
    return st.ok()
               ? std::chrono::duration<double, std::milli>(Clock::now() - t0)
                     .count()
               : -1.0;
  };
  std::vector<double> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(evaluate_once("small"));
  const Latency idle_l = Summarize(idle);

  struct RunResult {
    double seconds = 0;
    long patients = 0;
    long peak_rss_growth_kb = 0;
    Latency during;
  };
  auto run = [&](const std::string& clinic, bool probe, bool dry_run) {
    RunResult r;
    const long rss_before = RssKb();
    std::atomic<long> peak{rss_before};
    std::atomic<bool> running{true};
    std::thread sampler([&] {
      while (running) {
        peak = std::max(peak.load(), RssKb());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    std::vector<double> during;
    std::thread prober([&] {
      while (probe && running) {
        during.push_back(evaluate_once("small"));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + tokens[clinic]);
    v1::ReEvaluateRequest req;
    req.set_dry_run(dry_run);
    const auto t0 = Clock::now();
    auto reader = caseload->ReEvaluate(&ctx, req);
    v1::ReEvaluateEvent e;
    while (reader->Read(&e)) {
      if (e.has_summary()) r.patients = e.summary().total();
    }
    auto st = reader->Finish();
    r.seconds = Seconds(t0, Clock::now());
    running = false;
    sampler.join();
    prober.join();
    if (!st.ok()) std::fprintf(stderr, "run: %s\n", st.error_message().c_str());
    r.peak_rss_growth_kb = peak - rss_before;
    r.during = Summarize(during);
    return r;
  };
  // Dry runs first: they write nothing, so their memory growth is the
  // runner's own (queue, workers, in-flight evaluations). The stored runs
  // also fill RocksDB's memtables with the new evaluations, which RocksDB
  // caps by its write-buffer settings, not by caseload size.
  const RunResult small_dry = run("small", false, true);
  const RunResult big_dry = run("big", false, true);
  const RunResult small_run = run("small", false, false);
  const RunResult big_run = run("big", true, false);

  const double scan_rate = big / scan_s;
  const double eval_rate = big_run.patients / big_run.seconds;
  std::printf(
      "\ncaseload benchmark: %d patients x %d events, %d workers, plugins %s, "
      "store cache %d MiB + memtables %d MiB\n",
      big, events, workers, absl::GetFlag(FLAGS_plugin_isolation).c_str(),
      absl::GetFlag(FLAGS_store_cache_mb),
      absl::GetFlag(FLAGS_store_memtable_mb));
  std::printf(
      "  scan-only pass (baseline)   %8.0f patients/s  (%.2f s, %ld events "
      "decoded)\n",
      scan_rate, scan_s, decoded.load());
  std::printf(
      "  full re-evaluation          %8.0f patients/s  (%.2f s)  ratio to scan "
      "%.3f\n",
      eval_rate, big_run.seconds, eval_rate / scan_rate);
  std::printf(
      "  Evaluate idle               p50 %6.2f ms  p99 %6.2f ms  (n=%zu)\n",
      idle_l.p50, idle_l.p99, idle_l.n);
  std::printf(
      "  Evaluate during batch       p50 %6.2f ms  p99 %6.2f ms  (n=%zu)  p99 "
      "ratio %.2f\n",
      big_run.during.p50, big_run.during.p99, big_run.during.n,
      big_run.during.p99 / idle_l.p99);
  std::printf("  peak RSS growth, %5d patients  %8ld KiB\n", small,
              small_run.peak_rss_growth_kb);
  std::printf(
      "  peak RSS growth, %5d patients  %8ld KiB  (ratio %.2f for %.1fx "
      "patients)\n",
      big, big_run.peak_rss_growth_kb,
      small_run.peak_rss_growth_kb > 0
          ? static_cast<double>(big_run.peak_rss_growth_kb) /
                small_run.peak_rss_growth_kb
          : 0.0,
      static_cast<double>(big) / small);
  std::printf("  dry-run peak RSS growth, %5d / %5d patients  %ld / %ld KiB\n",
              small, big, small_dry.peak_rss_growth_kb,
              big_dry.peak_rss_growth_kb);
  std::printf("  dry-run re-evaluation       %8.0f patients/s\n",
              big_dry.patients / big_dry.seconds);
  std::printf("  process RSS at end          %8ld KiB\n", RssKb());
  (*server)->Shutdown();
  server->reset();
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  return 0;
}
