// Caseload re-evaluation benchmark. Seeds a store with a synthetic caseload
// (default 10,000 patients x 100 events, plus a 2,000-patient clinic to show
// memory does not grow with caseload size), starts an in-process server
// and measures in one run:
//   - a scan-only pass (read and decode every timeline, same thread count):
//     the baseline;
//   - dry and stored CaseloadService.ReEvaluate over loopback gRPC:
//     patients/s and the ratio to the scan;
//   - interactive Evaluate p50/p99 while idle and while the stored batch
//     runs;
//   - resident memory: peak growth during the small and the big runs.
// See bench/README.md.
//
//   achilles-caseload-bench [--patients=10000] [--events=100]
//   achilles-caseload-bench --repeat=3 --json=caseload.json
//   python3 bench/compare.py old.json new.json
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "achilles/v1/caseload_service.grpc.pb.h"
#include "achilles/v1/decision_service.grpc.pb.h"
#include "bench/figures.h"
#include "bench/json_writer.h"
#include "bench/machine_facts.h"
#include "bench/stats.h"
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
ABSL_FLAG(int, repeat, 1,
          "run everything (seeding included) this many times (ranges)");
ABSL_FLAG(std::string, json, "", "also write every figure to this file");

namespace {

namespace v1 = achilles::v1;
namespace bench = achilles::bench;
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

// Evaluate latencies in milliseconds, failed calls counted apart.
struct Probe {
  std::vector<double> ms;
  long errors = 0;
};

struct RunResult {
  double seconds = 0;
  long patients = 0;
  long peak_rss_growth_kb = 0;
  Probe during;
  std::string error;  // The ReEvaluate stream's failure, if any.
};

// Everything one repeat measured.
struct CaseloadRun {
  int workers = 0;
  double seed_seconds = 0;
  double scan_seconds = 0;
  long decoded = 0;
  Probe idle;
  RunResult small_dry, big_dry, small_run, big_run;
  long rss_end_kb = 0;
};

// Seeds both clinics directly through the store, without fsync: this is
// setup, not measured.
absl::Status SeedStore(const std::string& data, int64_t end, CaseloadRun* out) {
  achilles::storage::StoreOptions so;
  so.path = data;
  so.sync_writes = false;
  auto store = achilles::storage::OpenRocksDbStore(so);
  if (!store.ok()) return store.status();
  const int events = absl::GetFlag(FLAGS_events);
  const auto t0 = Clock::now();
  for (auto [clinic, n] :
       {std::pair<std::string, int>{"big", absl::GetFlag(FLAGS_patients)},
        {"small", absl::GetFlag(FLAGS_small_patients)}}) {
    for (int i = 0; i < n; ++i) {
      v1::Patient p;
      p.set_patient_id(absl::StrFormat("p%06d", i));
      (*store)->UpsertPatient(clinic, p).IgnoreError();
      auto timeline = achilles::cli::DemoTimeline(7, i, events, end);
      auto r = (*store)->AppendEvents(clinic, p.patient_id(), timeline);
      if (!r.ok()) return r.status();
    }
  }
  (*store)->Flush().IgnoreError();
  out->seed_seconds = Seconds(t0, Clock::now());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<achilles::server::Server>> StartServer(
    const std::string& data) {
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
  options.shutdown_drain = absl::ZeroDuration();  // No load balancer here.
  return achilles::server::Server::Start(options);
}

absl::StatusOr<std::map<std::string, std::string>> IssueTokens(
    achilles::server::Server* server) {
  std::map<std::string, std::string> tokens;
  for (const char* clinic : {"big", "small"}) {
    v1::IssueTokenRequest issue;
    issue.set_subject("caseload-bench");
    issue.set_clinic_id(clinic);
    issue.add_roles(v1::ROLE_EHR);
    issue.add_roles(v1::ROLE_CLINIC_ADMIN);
    auto issued = server->backend()->gate->credentials()->Issue(
        issue, "caseload-bench", achilles::NowMicros());
    if (!issued.ok()) return issued.status();
    tokens[clinic] = issued->token();
  }
  return tokens;
}

// The baseline: read and decode every timeline of the big clinic, with as
// many threads as the caseload runner has workers.
void ScanPass(achilles::storage::TimelineStore* store, int workers, int64_t end,
              CaseloadRun* out) {
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
  out->scan_seconds = Seconds(s0, Clock::now());
  out->decoded = decoded;
}

// Loopback clients of the in-process server.
class Caller {
 public:
  Caller(int port, std::map<std::string, std::string> tokens)
      : tokens_(std::move(tokens)) {
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    decisions_ = v1::DecisionService::NewStub(channel);
    caseload_ = v1::CaseloadService::NewStub(channel);
  }

  // One interactive Evaluate in the small clinic, recorded in `probe`.
  void Evaluate(Probe* probe) {
    grpc::ClientContext ctx;
    Prepare(&ctx, "small", std::chrono::seconds(30));
    v1::EvaluateRequest req;
    req.set_patient_id("p000001");
    v1::EvaluateResponse resp;
    const auto t0 = Clock::now();
    if (!decisions_->Evaluate(&ctx, req, &resp).ok()) {
      ++probe->errors;
      return;
    }
    probe->ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }

  // The whole ReEvaluate stream; the run's summary total in `patients`.
  grpc::Status ReEvaluate(const std::string& clinic, bool dry_run,
                          long* patients) {
    grpc::ClientContext ctx;
    Prepare(&ctx, clinic, std::chrono::minutes(30));
    v1::ReEvaluateRequest req;
    req.set_dry_run(dry_run);
    auto reader = caseload_->ReEvaluate(&ctx, req);
    v1::ReEvaluateEvent e;
    while (reader->Read(&e)) {
      if (e.has_summary()) *patients = e.summary().total();
    }
    return reader->Finish();
  }

 private:
  template <typename Duration>
  void Prepare(grpc::ClientContext* ctx, const std::string& clinic,
               Duration deadline) {
    ctx->AddMetadata("authorization", "Bearer " + tokens_[clinic]);
    ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  }

  std::map<std::string, std::string> tokens_;
  std::unique_ptr<v1::DecisionService::Stub> decisions_;
  std::unique_ptr<v1::CaseloadService::Stub> caseload_;
};

// Samples this process's RSS (the server is in it) until stopped.
class RssPeak {
 public:
  RssPeak() : before_(RssKb()), peak_(before_) {
    thread_ = std::thread([this] {
      while (running_) {
        peak_ = std::max(peak_.load(), RssKb());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  long StopAndGetGrowthKb() {
    running_ = false;
    thread_.join();
    return peak_ - before_;
  }

 private:
  const long before_;
  std::atomic<long> peak_;
  std::atomic<bool> running_{true};
  std::thread thread_;
};

RunResult RunReEvaluation(Caller* caller, const std::string& clinic, bool probe,
                          bool dry_run) {
  RunResult r;
  RssPeak rss;
  std::atomic<bool> running{true};
  std::thread prober([&] {
    while (probe && running) {
      caller->Evaluate(&r.during);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const auto t0 = Clock::now();
  const grpc::Status st = caller->ReEvaluate(clinic, dry_run, &r.patients);
  r.seconds = Seconds(t0, Clock::now());
  running = false;
  prober.join();
  r.peak_rss_growth_kb = rss.StopAndGetGrowthKb();
  if (!st.ok()) r.error = st.error_message();
  return r;
}

// The measurements against a started server.
void MeasureServer(achilles::server::Server* server, Caller* caller,
                   int64_t end, CaseloadRun* out) {
  const int configured = absl::GetFlag(FLAGS_workers);
  out->workers = configured > 0
                     ? configured
                     : static_cast<int>(std::thread::hardware_concurrency());
  ScanPass(server->backend()->store, out->workers, end, out);
  for (int i = 0; i < 200; ++i) caller->Evaluate(&out->idle);
  // Dry runs first: they write nothing, so their memory growth is the
  // runner's own (queue, workers, in-flight evaluations). The stored runs
  // also fill RocksDB's memtables with the new evaluations, which RocksDB
  // caps by its write-buffer settings, not by caseload size.
  out->small_dry = RunReEvaluation(caller, "small", false, true);
  out->big_dry = RunReEvaluation(caller, "big", false, true);
  out->small_run = RunReEvaluation(caller, "small", false, false);
  out->big_run = RunReEvaluation(caller, "big", true, false);
  out->rss_end_kb = RssKb();
}

absl::StatusOr<CaseloadRun> RunOnce(const std::string& tmp) {
  CaseloadRun out;
  const std::string data = tmp + "/data";
  const int64_t end = achilles::NowMicros() - achilles::kMicrosPerDay;
  if (auto st = SeedStore(data, end, &out); !st.ok()) return st;
  auto server = StartServer(data);
  if (!server.ok()) return server.status();
  auto tokens = IssueTokens(server->get());
  if (!tokens.ok()) return tokens.status();
  Caller caller((*server)->port(), *std::move(tokens));
  MeasureServer(server->get(), &caller, end, &out);
  (*server)->Shutdown();
  return out;
}

double Rate(long n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0;
}

void RecordRate(const std::string& name, const RunResult& r, double scan_rate,
                bench::Figures* f) {
  const double rate = Rate(r.patients, r.seconds);
  f->Add("caseload", name, "patients_per_s", rate);
  f->Add("caseload", name, "ratio_to_scan", rate / scan_rate);
  f->Add("caseload", name, "seconds", r.seconds);
  f->Add("caseload", name, "patients", static_cast<double>(r.patients));
  if (!r.error.empty()) f->Note("caseload", name, "failed: " + r.error);
}

bench::Percentiles RecordProbe(const std::string& name, const Probe& p,
                               bench::Figures* f) {
  const bench::Percentiles l = bench::Summarize(p.ms);
  f->Add("caseload", name, "p50_ms", l.p50);
  f->Add("caseload", name, "p99_ms", l.p99);
  f->Add("caseload", name, "calls", static_cast<double>(l.n));
  f->Add("caseload", name, "errors", static_cast<double>(p.errors));
  if (p.errors > 0) {
    f->Note("caseload", name, absl::StrCat(p.errors, " Evaluate calls failed"));
  }
  return l;
}

void RecordRss(const CaseloadRun& r, bench::Figures* f) {
  const std::string g = "peak RSS growth";
  f->Add("caseload", g, "dry_small_kib", r.small_dry.peak_rss_growth_kb);
  f->Add("caseload", g, "dry_big_kib", r.big_dry.peak_rss_growth_kb);
  f->Add("caseload", g, "stored_small_kib", r.small_run.peak_rss_growth_kb);
  f->Add("caseload", g, "stored_big_kib", r.big_run.peak_rss_growth_kb);
  if (r.small_run.peak_rss_growth_kb > 0) {
    f->Add("caseload", g, "stored_big_vs_small",
           static_cast<double>(r.big_run.peak_rss_growth_kb) /
               r.small_run.peak_rss_growth_kb);
  }
  f->Add("caseload", g, "rss_at_end_kib", r.rss_end_kb);
}

void RecordCaseloadRun(const CaseloadRun& r, bench::Figures* f) {
  const double scan_rate = Rate(absl::GetFlag(FLAGS_patients), r.scan_seconds);
  f->Add("caseload", "seeding", "seconds", r.seed_seconds);
  f->Add("caseload", "scan-only pass", "patients_per_s", scan_rate);
  f->Add("caseload", "scan-only pass", "seconds", r.scan_seconds);
  f->Add("caseload", "scan-only pass", "events_decoded",
         static_cast<double>(r.decoded));
  RecordRate("re-evaluation, stored", r.big_run, scan_rate, f);
  RecordRate("re-evaluation, dry run", r.big_dry, scan_rate, f);
  RecordRate("re-evaluation, stored, small clinic", r.small_run, scan_rate, f);
  RecordRate("re-evaluation, dry run, small clinic", r.small_dry, scan_rate, f);
  const bench::Percentiles idle = RecordProbe("Evaluate idle", r.idle, f);
  const bench::Percentiles during =
      RecordProbe("Evaluate during stored run", r.big_run.during, f);
  if (idle.p99 > 0) {
    f->Add("caseload", "Evaluate during stored run", "p99_vs_idle",
           during.p99 / idle.p99);
  }
  RecordRss(r, f);
}

// One line: a label, then "metric value" pairs, values as min-max.
void PrintLine(const bench::Figures& f, const std::string& label,
               const std::string& group,
               const std::vector<std::pair<std::string, std::string>>& cells) {
  const bench::FigureGroup* g = f.Find("caseload", group);
  if (g == nullptr) return;
  std::printf("  %-34s", label.c_str());
  for (const auto& [title, metric] : cells) {
    const std::vector<double>* v = g->Find(metric);
    std::printf("  %s %s", title.c_str(),
                v == nullptr ? "-" : bench::FormatSpread(*v).c_str());
  }
  std::printf("\n");
}

void PrintCaseloadReport(const bench::Figures& f, int workers, int runs) {
  const int big = absl::GetFlag(FLAGS_patients);
  const int small = absl::GetFlag(FLAGS_small_patients);
  std::printf(
      "\ncaseload benchmark: %d patients x %d events, %d workers, plugins %s, "
      "store cache %d MiB + memtables %d MiB%s\n",
      big, absl::GetFlag(FLAGS_events), workers,
      absl::GetFlag(FLAGS_plugin_isolation).c_str(),
      absl::GetFlag(FLAGS_store_cache_mb),
      absl::GetFlag(FLAGS_store_memtable_mb),
      runs > 1 ? absl::StrCat("; min-max over ", runs, " runs").c_str() : "");
  PrintLine(
      f, "scan-only pass (baseline)", "scan-only pass",
      {{"patients/s", "patients_per_s"}, {"events decoded", "events_decoded"}});
  for (const char* g : {"re-evaluation, stored", "re-evaluation, dry run"}) {
    PrintLine(f, g, g,
              {{"patients/s", "patients_per_s"},
               {"ratio to scan", "ratio_to_scan"},
               {"s", "seconds"}});
  }
  PrintLine(f, "Evaluate idle (ms)", "Evaluate idle",
            {{"p50", "p50_ms"}, {"p99", "p99_ms"}, {"errors", "errors"}});
  PrintLine(f, "Evaluate during stored run (ms)", "Evaluate during stored run",
            {{"p50", "p50_ms"},
             {"p99", "p99_ms"},
             {"p99/idle", "p99_vs_idle"},
             {"errors", "errors"}});
  PrintLine(f, absl::StrFormat("peak RSS growth KiB, %d / %d", small, big),
            "peak RSS growth",
            {{"dry", "dry_small_kib"},
             {"/", "dry_big_kib"},
             {"stored", "stored_small_kib"},
             {"/", "stored_big_kib"},
             {"stored big/small", "stored_big_vs_small"}});
  for (const auto& g : f.groups()) {
    for (const auto& n : g.notes) {
      std::printf("  NOTE %s: %s\n", g.name.c_str(), n.c_str());
    }
  }
}

void WriteConfig(bench::JsonWriter* j, int workers) {
  j->BeginObject();
  j->Field("patients", absl::GetFlag(FLAGS_patients));
  j->Field("small_patients", absl::GetFlag(FLAGS_small_patients));
  j->Field("events", absl::GetFlag(FLAGS_events));
  j->Field("workers", workers);
  j->Field("store_cache_mb", absl::GetFlag(FLAGS_store_cache_mb));
  j->Field("store_memtable_mb", absl::GetFlag(FLAGS_store_memtable_mb));
  j->Field("plugin_isolation", absl::GetFlag(FLAGS_plugin_isolation));
  j->Field("repeat", absl::GetFlag(FLAGS_repeat));
  j->EndObject();
}

bool WriteJsonReport(const std::string& path, const bench::MachineFacts& m,
                     int workers, const bench::Figures& f) {
  bench::JsonWriter j;
  j.BeginObject();
  j.Field("benchmark", "achilles-caseload-bench");
  j.Key("machine");
  bench::WriteMachineFacts(&j, m);
  j.Key("config");
  WriteConfig(&j, workers);
  j.Key("groups");
  f.WriteJson(&j);
  j.EndObject();
  return bench::WriteTextFile(path, j.text());
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string root = std::filesystem::temp_directory_path().string();
  const bench::MachineFacts facts = bench::CollectMachineFacts(root);
  const int runs = std::max(1, absl::GetFlag(FLAGS_repeat));
  bench::Figures figures;
  int workers = 0;
  for (int run = 1; run <= runs; ++run) {
    std::string tmp = root + "/achilles-cbench-XXXXXX";
    if (mkdtemp(tmp.data()) == nullptr) return 2;
    auto r = RunOnce(tmp);
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
    if (!r.ok()) {
      std::fprintf(stderr, "run %d: %s\n", run, r.status().ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "run %d: seeded in %.1f s, measured\n", run,
                 r->seed_seconds);
    workers = r->workers;
    RecordCaseloadRun(*r, &figures);
  }
  PrintCaseloadReport(figures, workers, runs);
  const std::string json = absl::GetFlag(FLAGS_json);
  if (!json.empty() && !WriteJsonReport(json, facts, workers, figures)) {
    return 1;
  }
  return 0;
}
