// achilles-server: main() only parses flags, handles signals and runs the
// server (see server.h).
//
// Signals: one thread waits for them. SIGHUP only asks the reload thread
// for a plugin rescan, so a reload stuck in plugin code never keeps SIGTERM
// or SIGINT from shutting the server down.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "achilles_build_info.h"
#include "common/log.h"
#include "plugins/host/plugin_host.h"
#include "services/server/internal/config_file.h"
#include "services/server/internal/data_format.h"
#include "services/server/internal/service_manager.h"
#include "services/server/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "address:port to serve gRPC on (port 0 picks a free port)");
ABSL_FLAG(std::string, data_dir, "./data", "RocksDB data directory");
ABSL_FLAG(std::string, plugin_dir, "",
          "directory of protocol plugin .so files (default: the bundled "
          "plugins next to this binary, installed or in the build tree; "
          "'none' for the safety screen only)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(std::string, config, "",
          "YAML file of settings, one key per flag name (flags given on the "
          "command line override it); see docs/OPERATIONS.md");
ABSL_FLAG(bool, check_config, false,
          "validate the configuration (file and flags, TLS files, addresses, "
          "the data dir's format) and exit: 0 when the server would start "
          "with it, 2 with a message naming the key otherwise");
ABSL_FLAG(std::string, log_format, "text",
          "text (one readable line per event) or json (one JSON object per "
          "line, for log shippers); docs/OPERATIONS.md shows both");
ABSL_FLAG(std::string, metrics_address, "",
          "host:port to serve Prometheus metrics on (GET /metrics); empty = "
          "off. Loopback only unless --metrics_allow_remote");
ABSL_FLAG(bool, metrics_allow_remote, false,
          "allow --metrics_address on a non-loopback address (the metrics are "
          "plain HTTP; keep them on a private network)");
ABSL_FLAG(int, plugin_timeout_ms, 2000, "deadline for one plugin call");
ABSL_FLAG(std::string, plugin_allowlist, "",
          "comma-separated SHA-256 digests; when set, only these plugin files "
          "load");
ABSL_FLAG(std::string, port_file, "",
          "write the bound port to this file once serving (for scripts and "
          "tests using --listen=...:0)");
ABSL_FLAG(
    std::string, plugin_isolation, "process",
    "process: each plugin runs in sandboxed achilles-plugin-worker "
    "processes, so even a crashing, leaking or hostile plugin cannot "
    "take the server down or reach what it can (about 1.1-1.4x the CPU "
    "per Evaluate, see bench/README.md); inprocess: plugins are dlopen'd into "
    "the server, for trusted plugins only (docs/SECURITY.md)");
ABSL_FLAG(std::string, plugin_worker, "",
          "path of achilles-plugin-worker (default: next to this binary)");
ABSL_FLAG(int, plugin_worker_memory_mb, 1024,
          "address-space limit of each plugin worker process");
ABSL_FLAG(int, plugin_cpu_seconds, 10,
          "CPU seconds each plugin worker process may use over its life "
          "(RLIMIT_CPU); a worker past it is killed and its call fails, and "
          "one past half is replaced after its call, so a call needing less "
          "than half never meets the limit");
ABSL_FLAG(std::string, plugin_user, "",
          "user the plugin worker processes run as when the server runs as "
          "root (default: nobody; a dedicated user is better); must be empty "
          "when the server is not root");
ABSL_FLAG(std::string, backup_dir, "",
          "where StoreService.Checkpoint (achillesctl backup NAME) writes "
          "online backups; empty turns backups off");
ABSL_FLAG(int, backup_keep, 7,
          "incremental backups kept in <backup_dir>/incremental (achillesctl "
          "backup create); older ones are deleted after each new one");
ABSL_FLAG(int, store_cache_mb, 64,
          "RocksDB block cache shared by all column families");
ABSL_FLAG(int, store_memtable_mb, 64,
          "RocksDB memtable budget across all column families");
ABSL_FLAG(bool, sync_writes, true,
          "fsync the WAL before acknowledging a write (keep on in production)");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain: serve TLS (re-read when it changes)");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key for --tls_cert_file");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle: require client certificates it signed (mutual TLS)");
ABSL_FLAG(bool, insecure_plaintext, false,
          "allow plaintext on a non-loopback --listen address (only behind a "
          "proxy that terminates TLS on the same host)");
ABSL_FLAG(std::string, ehr_listen, "",
          "host:port of the EHR listener (CDS Hooks, FHIR, reports; "
          "docs/EHR.md), TLS from --tls_cert_file; empty = off");
ABSL_FLAG(std::string, ehr_public_url, "",
          "base URL EHRs call (JWT audience, card links); default "
          "https://<ehr_listen>");
ABSL_FLAG(std::string, ehr_trust_file, "",
          "JSON file of trusted CDS Hooks JWT issuers and their keys");
ABSL_FLAG(bool, ehr_insecure_plaintext, false,
          "serve the EHR listener without TLS (loopback only; for tests)");
ABSL_FLAG(std::string, ehr_port_file, "",
          "write the EHR listener's port here once it listens");
ABSL_FLAG(bool, ehr_outbound_allow_http, false,
          "EHR listener: allow plain-http FHIR servers and JWKS URLs "
          "(testing only; https otherwise)");
ABSL_FLAG(std::string, ehr_outbound_ca_file, "",
          "EHR listener: CA certificates for the EHRs' FHIR servers and "
          "JWKS URLs (default: the system's)");
ABSL_FLAG(int, ehr_threads, 8, "EHR listener: requests served at once");
ABSL_FLAG(int, ehr_max_body_kb, 4096, "EHR listener: largest request body");
ABSL_FLAG(std::string, bootstrap_token_file, "",
          "where the first operator token is written when no credentials "
          "exist (default: <data_dir>/operator.token)");
ABSL_FLAG(std::vector<std::string>, serve_clinics, {},
          "one shard of a clinic chain: the comma-separated clinic ids it "
          "serves; calls and tokens of any other clinic are refused "
          "(empty = every clinic)");
ABSL_FLAG(double, clinic_rate_limit, 1000,
          "requests per second per clinic (burst twice that); 0 = unlimited");
ABSL_FLAG(int, max_connections, 1000,
          "client connections at once; fewer if RLIMIT_NOFILE leaves fewer "
          "after the store's and plugin workers' shares (further connections "
          "are closed at once)");
ABSL_FLAG(int, store_max_open_files, 512,
          "RocksDB table files kept open (at most half the descriptors left "
          "after the server's and plugin workers' shares)");
ABSL_FLAG(int, max_caseload_runs, 2,
          "concurrent CaseloadService.ReEvaluate runs; more are refused with "
          "RESOURCE_EXHAUSTED");
ABSL_FLAG(int, request_threads, 0,
          "threads that run requests' store and plugin work; 0 = 4 per core "
          "(16 to 128)");
ABSL_FLAG(int, request_queue, 1024,
          "requests that may wait for a request thread; more are refused "
          "with RESOURCE_EXHAUSTED");
ABSL_FLAG(int, shutdown_drain_ms, 2000,
          "after SIGTERM/SIGINT, keep serving this long with health "
          "NOT_SERVING before closing the port (a second signal ends it)");

namespace {

// Transport and access flags (docs/SECURITY.md).
void ApplySecurityFlags(achilles::server::ServerOptions* o) {
  o->tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  o->tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  o->tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  o->insecure_plaintext = absl::GetFlag(FLAGS_insecure_plaintext);
  o->bootstrap_token_file = absl::GetFlag(FLAGS_bootstrap_token_file);
  o->ehr.listen_address = absl::GetFlag(FLAGS_ehr_listen);
  o->ehr.public_url = absl::GetFlag(FLAGS_ehr_public_url);
  o->ehr.trust_file = absl::GetFlag(FLAGS_ehr_trust_file);
  o->ehr.insecure_plaintext = absl::GetFlag(FLAGS_ehr_insecure_plaintext);
  o->ehr.outbound_allow_http = absl::GetFlag(FLAGS_ehr_outbound_allow_http);
  o->ehr.outbound_ca_file = absl::GetFlag(FLAGS_ehr_outbound_ca_file);
  o->ehr.threads = std::max(1, absl::GetFlag(FLAGS_ehr_threads));
  o->ehr.max_body_bytes =
      size_t{1024} * std::max(1, absl::GetFlag(FLAGS_ehr_max_body_kb));
  o->clinic_requests_per_second = absl::GetFlag(FLAGS_clinic_rate_limit);
  o->clinic_burst = 2 * o->clinic_requests_per_second;
  o->serve_clinics = absl::GetFlag(FLAGS_serve_clinics);
}

// Connections, descriptors, caseload runs and the drain (docs/OPERATIONS.md).
// False, after saying why, for a value out of range.
bool ApplyResourceFlags(achilles::server::ServerOptions* o) {
  const int connections = absl::GetFlag(FLAGS_max_connections);
  const int files = absl::GetFlag(FLAGS_store_max_open_files);
  const int runs = absl::GetFlag(FLAGS_max_caseload_runs);
  const int drain_ms = absl::GetFlag(FLAGS_shutdown_drain_ms);
  const int threads = absl::GetFlag(FLAGS_request_threads);
  const int queue = absl::GetFlag(FLAGS_request_queue);
  if (connections < 1 || files < 32 || runs < 1 || drain_ms < 0 ||
      threads < 0 || threads > 1024 || queue < 1) {
    std::fprintf(stderr,
                 "--max_connections, --max_caseload_runs and --request_queue: "
                 "at least 1; --store_max_open_files: at least 32; "
                 "--shutdown_drain_ms: not negative; --request_threads: 0 "
                 "(automatic) to 1024\n");
    return false;
  }
  o->request_threads = threads;
  o->request_queue = queue;
  o->max_connections = connections;
  o->store_max_open_files = files;
  o->max_caseload_runs = runs;
  o->shutdown_drain = absl::Milliseconds(drain_ms);
  return true;
}

}  // namespace

namespace {

namespace server = ::achilles::server;
using ::achilles::Log;
using ::achilles::LogLevel;

// The bundled plugins: installed layout first, then the build tree.
std::string BundledPluginDir() {
  std::error_code ec;
  const auto exe_dir =
      std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  for (const auto& candidate : {exe_dir / ".." / ACHILLES_INSTALL_PLUGIN_DIR,
                                exe_dir / "../../plugins.d"}) {
    if (std::filesystem::is_directory(candidate, ec)) {
      return candidate.lexically_normal().string();
    }
  }
  return "";
}

// The plugin flags; false (after saying why) on a bad value.
bool PluginOptionsFromFlags(server::ServerOptions* options) {
  if (absl::GetFlag(FLAGS_plugin_timeout_ms) <= 0) {
    std::fprintf(stderr, "--plugin_timeout_ms: must be positive\n");
    return false;
  }
  options->plugin_dir = absl::GetFlag(FLAGS_plugin_dir);
  if (options->plugin_dir.empty()) {
    options->plugin_dir = BundledPluginDir();
  } else if (options->plugin_dir == "none") {
    options->plugin_dir.clear();
  }
  options->plugin_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_plugin_timeout_ms));
  const std::string isolation = absl::GetFlag(FLAGS_plugin_isolation);
  if (isolation == "process") {
    options->plugin_isolation = achilles::plugins::Isolation::kProcess;
  } else if (isolation == "inprocess") {
    options->plugin_isolation = achilles::plugins::Isolation::kInProcess;
  } else {
    std::fprintf(stderr,
                 "--plugin_isolation: '%s' is not inprocess or "
                 "process\n",
                 isolation.c_str());
    return false;
  }
  options->plugin_worker = absl::GetFlag(FLAGS_plugin_worker);
  if (absl::GetFlag(FLAGS_plugin_worker_memory_mb) < 64) {
    std::fprintf(stderr, "--plugin_worker_memory_mb: at least 64\n");
    return false;
  }
  options->plugin_worker_memory_mb =
      absl::GetFlag(FLAGS_plugin_worker_memory_mb);
  if (absl::GetFlag(FLAGS_plugin_cpu_seconds) < 1) {
    std::fprintf(stderr, "--plugin_cpu_seconds: at least 1\n");
    return false;
  }
  options->plugin_cpu_seconds = absl::GetFlag(FLAGS_plugin_cpu_seconds);
  options->plugin_user = absl::GetFlag(FLAGS_plugin_user);
  for (absl::string_view d : absl::StrSplit(
           absl::GetFlag(FLAGS_plugin_allowlist), ',', absl::SkipEmpty())) {
    options->plugin_allowlist.emplace_back(d);
  }
  return true;
}

// Fills `options` from the flags; false (after saying why) on a bad value.
bool OptionsFromFlags(server::ServerOptions* options) {
  options->listen_address = absl::GetFlag(FLAGS_listen);
  options->data_dir = absl::GetFlag(FLAGS_data_dir);
  options->sync_writes = absl::GetFlag(FLAGS_sync_writes);
  options->backup_dir = absl::GetFlag(FLAGS_backup_dir);
  options->backup_keep = absl::GetFlag(FLAGS_backup_keep);
  if (options->backup_keep < 1 || options->backup_keep > 1000) {
    std::fprintf(stderr, "--backup_keep: 1 to 1000\n");
    return false;
  }
  options->metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options->metrics_allow_remote = absl::GetFlag(FLAGS_metrics_allow_remote);
  if (absl::GetFlag(FLAGS_store_cache_mb) < 8 ||
      absl::GetFlag(FLAGS_store_memtable_mb) < 8) {
    std::fprintf(stderr,
                 "--store_cache_mb and --store_memtable_mb: at least 8\n");
    return false;
  }
  options->store_cache_mb = absl::GetFlag(FLAGS_store_cache_mb);
  options->store_memtable_mb = absl::GetFlag(FLAGS_store_memtable_mb);
  return PluginOptionsFromFlags(options);
}

// In-process plugins share everything with the server; say so where an
// operator will see it.
void WarnIfInProcess(const server::ServerOptions& options) {
  if (options.plugin_isolation != achilles::plugins::Isolation::kInProcess) {
    return;
  }
  Log(LogLevel::kWarning,
      "*** --plugin_isolation=inprocess: plugins run INSIDE the server, "
      "with its privileges, memory and data. A plugin that crashes, calls "
      "_exit, lies about its response size or leaves a thread running at "
      "unload takes the server down; one that hangs while loading can only "
      "be cleared by a restart. Load only plugins you trust as you trust "
      "this server (docs/SECURITY.md); --plugin_isolation=process contains "
      "and sandboxes them. ***");
}

void WritePortFile(const std::string& path, int port) {
  // Write then rename, so a reader never sees a half-written number.
  const std::string tmp = path + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(f, "%d\n", port);
    std::fclose(f);
    std::rename(tmp.c_str(), path.c_str());
  }
}

// Runs the reloads SIGHUP asks for, one at a time, off the signal thread.
// Requests made while one runs fold into one more reload.
class ReloadThread {
 public:
  explicit ReloadThread(server::Server* server)
      : server_(server), thread_([this] { Run(); }) {}

  void Request() {
    absl::MutexLock lock(&mu_);
    pending_ = true;
  }

  // Stops the thread. True once it has ended; false when a reload is still
  // running after `grace` (stuck in plugin code): the thread is then left
  // behind and the process must not run exit-time teardown.
  bool Stop(absl::Duration grace) {
    bool idle = false;
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      auto not_running = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !running_;
      };
      idle = mu_.AwaitWithTimeout(absl::Condition(&not_running), grace);
    }
    if (!idle) {
      thread_.detach();
      return false;
    }
    thread_.join();
    return true;
  }

 private:
  void Run() {
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return pending_ || stopping_;
        };
        mu_.Await(absl::Condition(&woken));
        if (stopping_) return;
        pending_ = false;
        running_ = true;
      }
      server::NotifyReloading();
      auto r = server_->ReloadPlugins();
      if (!r.ok()) {
        Log(LogLevel::kError, "plugin reload failed: ", r.status().message());
      }
      server::NotifyReady("serving");
      absl::MutexLock lock(&mu_);
      running_ = false;
    }
  }

  server::Server* const server_;
  absl::Mutex mu_;
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Waits for signals until SIGTERM or SIGINT, then shuts the server down.
// The first SIGTERM/SIGINT starts the shutdown (drain first) on its own
// thread, so that a second one can end the drain; SIGHUP only asks the
// reload thread for a rescan, so a stuck reload never delays shutdown.
void HandleSignals(const sigset_t& signals, server::Server* srv,
                   ReloadThread* reloads) {
  std::thread stopper;
  std::atomic<bool> stopped{false};
  while (!stopped.load()) {
    const timespec tick{0, 200 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig < 0) continue;  // Tick or EINTR: look at `stopped` again.
    if (sig == SIGHUP) {
      reloads->Request();
      continue;
    }
    const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
    if (stopper.joinable()) {
      Log(LogLevel::kInfo, "received ", name, " again: ending the drain");
      srv->EndDrain();
      continue;
    }
    Log(LogLevel::kInfo, "received ", name);
    server::NotifyStopping();
    stopper = std::thread([&] {
      srv->Shutdown();
      stopped = true;
    });
  }
  stopper.join();
}

// The configuration file first, then the command line over it.
bool ParseConfiguration(int argc, char** argv) {
  absl::FlagsUsageConfig usage;
  usage.version_string = [] {
    return absl::StrCat("achilles-server ", ACHILLES_VERSION, " (build ",
                        ACHILLES_BUILD, ", data format ",
                        achilles::server_internal::kDataFormat, ")\n");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "achilles-cds decision-support server.\n"
      "  achilles-server --data_dir=./data --plugin_dir=./plugins\n"
      "  achilles-server --config=/etc/achilles/server.yaml [--check_config]");
  const std::string config =
      achilles::server_internal::ConfigPathFromArgs(argc, argv);
  if (!config.empty()) {
    if (absl::Status st = achilles::server_internal::ApplyConfigFile(config);
        !st.ok()) {
      std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
      return false;
    }
  }
  absl::ParseCommandLine(argc, argv);
  return true;
}

// --check_config: everything Start would refuse, without starting.
int CheckConfig(const server::ServerOptions& options) {
  if (absl::Status st = server::Server::CheckOptions(options); !st.ok()) {
    std::fprintf(stderr, "configuration error: %s\n",
                 std::string(st.message()).c_str());
    return 2;
  }
  std::printf("configuration OK (data dir %s, listen %s)\n",
              options.data_dir.c_str(), options.listen_address.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Everything the server writes (store, backups, tokens, logs) is for its
  // own user only, whatever umask it was started with.
  umask(077);
  if (!ParseConfiguration(argc, argv)) return 2;
  // Debian builds Abseil with its lock-order (deadlock) detection on, which
  // records every Mutex acquisition in a global graph: 11% of the server's
  // CPU under load in a profile. The tests keep it on (they do not run
  // this main) and fail on an inverted lock order; production does not pay.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  achilles::LogLevel level;
  if (!achilles::ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    std::fprintf(stderr,
                 "--log_level: '%s' is not debug, info, warning or "
                 "error\n",
                 absl::GetFlag(FLAGS_log_level).c_str());
    return 2;
  }
  achilles::SetLogLevel(level);
  achilles::LogFormat format;
  if (!achilles::ParseLogFormat(absl::GetFlag(FLAGS_log_format), &format)) {
    std::fprintf(stderr, "--log_format: '%s' is not text or json\n",
                 absl::GetFlag(FLAGS_log_format).c_str());
    return 2;
  }
  achilles::SetLogFormat(format);
  server::ServerOptions options;
  if (!OptionsFromFlags(&options)) return 2;

  // Block the signals we handle before any thread starts, so every thread
  // inherits the mask and only the waiter below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ApplySecurityFlags(&options);
  if (!ApplyResourceFlags(&options)) return 2;
  if (absl::GetFlag(FLAGS_check_config)) return CheckConfig(options);
  WarnIfInProcess(options);
  auto server = server::Server::Start(options);
  if (!server.ok()) {
    Log(LogLevel::kError, "cannot start: ", server.status().message());
    return 1;
  }
  if (const std::string pf = absl::GetFlag(FLAGS_port_file); !pf.empty()) {
    WritePortFile(pf, (*server)->port());
  }
  if (const std::string pf = absl::GetFlag(FLAGS_ehr_port_file); !pf.empty()) {
    WritePortFile(pf, (*server)->ehr_port());
  }
  server::NotifyReady(absl::StrCat("serving on port ", (*server)->port()));

  ReloadThread reloads(server->get());
  std::thread waiter(HandleSignals, signals, server->get(), &reloads);
  (*server)->Wait();
  waiter.join();
  const bool reload_done = reloads.Stop(absl::Seconds(2));
  const std::string stuck = achilles::plugins::InProcessLoaderStuckIn();
  if (!reload_done || !stuck.empty()) {
    // The store is closed. What remains is plugin code that will not
    // return; exit() would wait for the loader lock it holds.
    Log(LogLevel::kWarning, "exiting without unloading plugins: ",
        stuck.empty() ? "a plugin reload is still running" : stuck);
    std::_Exit(0);
  }
  return 0;
}
