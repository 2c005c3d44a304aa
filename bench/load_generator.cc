// achilles-load: load benchmark for achilles-server. In one run it reports
// the raw synced-RocksDB-write anchor, then, against a real server process
// for each plugin isolation mode: Ping (the baseline), AppendEvents (one
// event per call) and Evaluate on timelines of 10, 100, 1,000 and 5,000
// events, each client on its own patients, with req/s, p50/p99 latency and
// server CPU per request (the server's and its plugin workers'), each also
// as a ratio to Ping; and Evaluate(1000) paced at half its measured rate.
// See bench/README.md for what each figure means.
//
//   achilles-load                                   # ~75 s; spawns servers
//   achilles-load --repeat=3 --json=load.json       # ranges over 3 runs
//   achilles-load --seconds=1 --repeat=1            # quick look
//   achilles-load --target=127.0.0.1:50051 --token_file=ehr.token
//       [--server_pid=PID]                          # a running server
//   python3 bench/compare.py old.json new.json      # two commits
//
// Requests go to loopback or --target only; every phase is bounded in time
// (--seconds, plus at most one call's --rpc_deadline_ms).
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/figures.h"
#include "bench/json_writer.h"
#include "bench/load_report.h"
#include "bench/load_set.h"
#include "bench/machine_facts.h"
#include "bench/raw_rocksdb.h"
#include "bench/server_process.h"

ABSL_FLAG(int, clients, 8, "concurrent client threads, one channel each");
ABSL_FLAG(double, seconds, 3.0, "measured duration of each phase");
ABSL_FLAG(double, warmup_seconds, 0.5, "unmeasured load before each phase");
ABSL_FLAG(int, repeat, 1, "run the whole set this many times (ranges)");
ABSL_FLAG(std::string, sizes, "10,100,1000,5000",
          "timeline lengths (events) to evaluate");
ABSL_FLAG(int, patients_per_client, 4,
          "each client's own patients per timeline length");
ABSL_FLAG(int, paced_size, 1000, "timeline length of the paced phase");
ABSL_FLAG(double, paced_fraction, 0.5,
          "paced phase rate, as a fraction of that length's measured req/s");
ABSL_FLAG(std::string, modes, "inprocess,process",
          "plugin isolation modes to start a server with");
ABSL_FLAG(std::string, target, "",
          "an already running server (then --modes is ignored)");
ABSL_FLAG(std::string, token_file, "",
          "with --target: file holding a token with the ehr role");
ABSL_FLAG(int, server_pid, 0,
          "with --target: the server's pid, to report its CPU per request");
ABSL_FLAG(std::string, server_binary, SERVER_BINARY, "achilles-server");
ABSL_FLAG(std::string, plugin_dir, BUNDLED_PLUGIN_DIR, "plugins to load");
ABSL_FLAG(std::string, plugin_worker, WORKER_BINARY, "achilles-plugin-worker");
ABSL_FLAG(bool, sync_writes, true,
          "spawned servers fsync every write, as in production");
ABSL_FLAG(std::string, scratch_dir, "",
          "where server data and the raw RocksDB go (default $TMPDIR or "
          "/tmp); with --target, put it on the server's filesystem");
ABSL_FLAG(std::string, raw_threads, "1,8", "raw RocksDB writer threads");
ABSL_FLAG(int, raw_value_bytes, 256, "raw RocksDB value size");
ABSL_FLAG(int, rpc_deadline_ms, 10000, "deadline of every call");
ABSL_FLAG(std::string, json, "", "also write every figure to this file");

namespace {

namespace bench = ::achilles::bench;

std::vector<int> IntList(const std::string& text) {
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int v = 0;
    if (!absl::SimpleAtoi(part, &v) || v <= 0) {
      std::fprintf(stderr, "'%s' is not a list of positive numbers\n",
                   text.c_str());
      std::exit(2);
    }
    out.push_back(v);
  }
  return out;
}

bench::LoadConfig ConfigFromFlags() {
  bench::LoadConfig c;
  c.clients = absl::GetFlag(FLAGS_clients);
  c.seconds = absl::GetFlag(FLAGS_seconds);
  c.warmup_seconds = absl::GetFlag(FLAGS_warmup_seconds);
  c.sizes = IntList(absl::GetFlag(FLAGS_sizes));
  c.patients_per_client = absl::GetFlag(FLAGS_patients_per_client);
  c.paced_size = absl::GetFlag(FLAGS_paced_size);
  c.paced_fraction = absl::GetFlag(FLAGS_paced_fraction);
  c.rpc_deadline =
      std::chrono::milliseconds(absl::GetFlag(FLAGS_rpc_deadline_ms));
  if (c.clients < 1 || c.seconds <= 0 || c.patients_per_client < 1 ||
      c.paced_fraction <= 0 || absl::GetFlag(FLAGS_repeat) < 1) {
    std::fprintf(stderr,
                 "--clients, --seconds, --patients_per_client, "
                 "--paced_fraction and --repeat must be positive\n");
    std::exit(2);
  }
  return c;
}

std::string MakeScratchDir() {
  std::string root = absl::GetFlag(FLAGS_scratch_dir);
  if (root.empty()) root = std::filesystem::temp_directory_path().string();
  std::string dir = root + "/achilles-load-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    std::fprintf(stderr, "cannot create a directory in %s\n", root.c_str());
    std::exit(2);
  }
  return dir;
}

std::map<int, bench::RawWriteResult> RunRawAnchor(const std::string& scratch,
                                                  double seconds) {
  std::map<int, bench::RawWriteResult> out;
  for (int threads : IntList(absl::GetFlag(FLAGS_raw_threads))) {
    bench::RawWriteOptions o{absl::StrCat(scratch, "/raw-", threads), threads,
                             seconds, absl::GetFlag(FLAGS_raw_value_bytes)};
    out[threads] = bench::RunRawSyncedWrites(o);
    std::fprintf(stderr, "  raw RocksDB synced writes x%d: %.0f writes/s %s\n",
                 threads, out[threads].writes_per_s,
                 out[threads].error.c_str());
  }
  return out;
}

// Patient ids unique to this process and run, for a shared --target.
std::string RunPrefix(int run) {
  return absl::StrCat("load", std::time(nullptr), "p", getpid(), "r", run);
}

absl::StatusOr<std::vector<bench::NamedPhase>> RunSpawned(
    const std::string& mode, const std::string& scratch, int run,
    const bench::LoadConfig& config) {
  bench::ServerConfig sc;
  sc.binary = absl::GetFlag(FLAGS_server_binary);
  sc.work_dir = absl::StrCat(scratch, "/run", run, "-", mode);
  sc.plugin_dir = absl::GetFlag(FLAGS_plugin_dir);
  sc.plugin_worker = absl::GetFlag(FLAGS_plugin_worker);
  sc.plugin_isolation = mode;
  sc.sync_writes = absl::GetFlag(FLAGS_sync_writes);
  auto server = bench::ServerProcess::Start(sc);
  if (!server.ok()) return server.status();
  auto token = bench::IssueToken((*server)->target(), (*server)->data_dir(),
                                 "bench", achilles::v1::ROLE_EHR);
  if (!token.ok()) return token.status();
  bench::LoadTarget target{(*server)->target(), *token, (*server)->pid(),
                           RunPrefix(run)};
  auto phases =
      bench::RunLoadSet(target, config, absl::StrCat("run ", run, " ", mode));
  (*server)->Stop();
  std::error_code ec;
  std::filesystem::remove_all(sc.work_dir, ec);
  return phases;
}

absl::StatusOr<std::vector<bench::NamedPhase>> RunAgainstTarget(
    int run, const bench::LoadConfig& config) {
  std::ifstream in(absl::GetFlag(FLAGS_token_file));
  std::string token;
  in >> token;
  bench::LoadTarget target{absl::GetFlag(FLAGS_target), token,
                           absl::GetFlag(FLAGS_server_pid), RunPrefix(run)};
  return bench::RunLoadSet(target, config, absl::StrCat("run ", run));
}

// One repeat of the whole set; an error when a server cannot be measured
// at all (failed calls in a phase are figures, not errors here).
absl::StatusOr<bench::LoadRun> RunOnce(int run, const std::string& scratch,
                                       const bench::LoadConfig& config) {
  bench::LoadRun out;
  out.raw = RunRawAnchor(scratch, config.seconds);
  std::vector<std::string> modes =
      absl::StrSplit(absl::GetFlag(FLAGS_modes), ',', absl::SkipEmpty());
  if (!absl::GetFlag(FLAGS_target).empty()) modes = {"target"};
  for (const auto& mode : modes) {
    auto phases = mode == "target" ? RunAgainstTarget(run, config)
                                   : RunSpawned(mode, scratch, run, config);
    if (!phases.ok()) {
      return absl::Status(phases.status().code(),
                          absl::StrCat(mode, ": ", phases.status().message()));
    }
    out.modes.emplace_back(mode, *std::move(phases));
  }
  return out;
}

void WriteConfig(bench::JsonWriter* j, const bench::LoadConfig& c) {
  j->BeginObject();
  j->Field("clients", c.clients);
  j->Field("seconds", c.seconds);
  j->Field("warmup_seconds", c.warmup_seconds);
  j->Field("repeat", absl::GetFlag(FLAGS_repeat));
  j->Key("sizes");
  j->BeginArray();
  for (int size : c.sizes) j->Number(size);
  j->EndArray();
  j->Field("patients_per_client", c.patients_per_client);
  j->Field("paced_size", c.paced_size);
  j->Field("paced_fraction", c.paced_fraction);
  j->Field("modes", absl::GetFlag(FLAGS_target).empty()
                        ? absl::GetFlag(FLAGS_modes)
                        : std::string("target"));
  j->Field("target", absl::GetFlag(FLAGS_target));
  j->Key("sync_writes");
  j->Bool(absl::GetFlag(FLAGS_sync_writes));
  j->Field("raw_threads", absl::GetFlag(FLAGS_raw_threads));
  j->Field("raw_value_bytes", absl::GetFlag(FLAGS_raw_value_bytes));
  j->Field("rpc_deadline_ms", absl::GetFlag(FLAGS_rpc_deadline_ms));
  j->EndObject();
}

bool WriteJsonReport(const std::string& path, const bench::MachineFacts& facts,
                     const bench::LoadConfig& config,
                     const bench::Figures& figures) {
  bench::JsonWriter j;
  j.BeginObject();
  j.Field("benchmark", "achilles-load");
  j.Key("machine");
  bench::WriteMachineFacts(&j, facts);
  j.Key("config");
  WriteConfig(&j, config);
  j.Key("groups");
  figures.WriteJson(&j);
  j.EndObject();
  return bench::WriteTextFile(path, j.text());
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const bench::LoadConfig config = ConfigFromFlags();
  const std::string scratch = MakeScratchDir();
  const bench::MachineFacts facts = bench::CollectMachineFacts(scratch);
  std::printf(
      "achilles-load: %d clients, %.1f s per phase, %d run(s); %d cores, %s; "
      "load average at start %s; source %s\n",
      config.clients, config.seconds, absl::GetFlag(FLAGS_repeat), facts.nproc,
      facts.filesystem.c_str(), facts.loadavg.c_str(), facts.source.c_str());
  std::fflush(stdout);
  bench::Figures figures;
  const int runs = absl::GetFlag(FLAGS_repeat);
  absl::Status failed;
  for (int run = 1; run <= runs && failed.ok(); ++run) {
    auto one = RunOnce(run, scratch, config);
    if (one.ok()) bench::RecordLoadRun(*one, &figures);
    failed = one.status();
  }
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  if (!failed.ok()) {
    std::fprintf(stderr, "achilles-load: %s\n", failed.ToString().c_str());
    return 1;
  }
  bench::PrintLoadReport(figures, runs);
  const std::string json = absl::GetFlag(FLAGS_json);
  if (!json.empty() && !WriteJsonReport(json, facts, config, figures)) return 1;
  return 0;
}
