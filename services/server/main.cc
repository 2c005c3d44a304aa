// achilles-server: main() only parses flags, handles signals and runs the
// server (see server.h).
#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "services/server/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "address:port to serve gRPC on (port 0 picks a free port)");
ABSL_FLAG(std::string, data_dir, "./data", "RocksDB data directory");
ABSL_FLAG(std::string, plugin_dir, "",
          "directory of protocol plugin .so files (default: the bundled "
          "plugins next to this binary, installed or in the build tree; "
          "'none' for the safety screen only)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(int, plugin_timeout_ms, 2000, "deadline for one plugin call");
ABSL_FLAG(std::string, plugin_allowlist, "",
          "comma-separated SHA-256 digests; when set, only these plugin files "
          "load");
ABSL_FLAG(std::string, port_file, "",
          "write the bound port to this file once serving (for scripts and "
          "tests using --listen=...:0)");
ABSL_FLAG(std::string, plugin_isolation, "process",
          "process: each plugin runs in achilles-plugin-worker processes, so "
          "even a crashing or leaking plugin cannot take the server down "
          "(cost within run-to-run noise, see bench/README.md); inprocess: "
          "plugins are dlopen'd into the server");
ABSL_FLAG(std::string, plugin_worker, "",
          "path of achilles-plugin-worker (default: next to this binary)");
ABSL_FLAG(int, plugin_worker_memory_mb, 1024,
          "address-space limit of each plugin worker process");
ABSL_FLAG(std::string, backup_dir, "",
          "where StoreService.Checkpoint (achillesctl backup NAME) writes "
          "online backups; empty turns backups off");
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
ABSL_FLAG(std::string, bootstrap_token_file, "",
          "where the first operator token is written when no credentials "
          "exist (default: <data_dir>/operator.token)");
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
  o->clinic_requests_per_second = absl::GetFlag(FLAGS_clinic_rate_limit);
  o->clinic_burst = 2 * o->clinic_requests_per_second;
}

// Connections, descriptors, caseload runs and the drain (docs/OPERATIONS.md).
// False, after saying why, for a value out of range.
bool ApplyResourceFlags(achilles::server::ServerOptions* o) {
  const int connections = absl::GetFlag(FLAGS_max_connections);
  const int files = absl::GetFlag(FLAGS_store_max_open_files);
  const int runs = absl::GetFlag(FLAGS_max_caseload_runs);
  const int drain_ms = absl::GetFlag(FLAGS_shutdown_drain_ms);
  if (connections < 1 || files < 32 || runs < 1 || drain_ms < 0) {
    std::fprintf(stderr,
                 "--max_connections and --max_caseload_runs: at least 1; "
                 "--store_max_open_files: at least 32; --shutdown_drain_ms: "
                 "not negative\n");
    return false;
  }
  o->max_connections = connections;
  o->store_max_open_files = files;
  o->max_caseload_runs = runs;
  o->shutdown_drain = absl::Milliseconds(drain_ms);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Everything the server writes (store, backups, tokens, logs) is for its
  // own user only, whatever umask it was started with.
  umask(077);
  absl::SetProgramUsageMessage(
      "achilles-cds decision-support server.\n"
      "  achilles-server --data_dir=./data --plugin_dir=./plugins");
  absl::ParseCommandLine(argc, argv);
  achilles::LogLevel level;
  if (!achilles::ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    std::fprintf(stderr,
                 "--log_level: '%s' is not debug, info, warning or "
                 "error\n",
                 absl::GetFlag(FLAGS_log_level).c_str());
    return 2;
  }
  achilles::SetLogLevel(level);
  if (absl::GetFlag(FLAGS_plugin_timeout_ms) <= 0) {
    std::fprintf(stderr, "--plugin_timeout_ms: must be positive\n");
    return 2;
  }

  // Block the signals we handle before any thread starts, so every thread
  // inherits the mask and only the waiter below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  achilles::server::ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.plugin_dir = absl::GetFlag(FLAGS_plugin_dir);
  if (options.plugin_dir.empty()) {
    // The bundled plugins: installed layout first, then the build tree.
    std::error_code ec;
    const auto exe_dir =
        std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    for (const auto& candidate : {exe_dir / ".." / ACHILLES_INSTALL_PLUGIN_DIR,
                                  exe_dir / "../../plugins.d"}) {
      if (std::filesystem::is_directory(candidate, ec)) {
        options.plugin_dir = candidate.lexically_normal().string();
        break;
      }
    }
  } else if (options.plugin_dir == "none") {
    options.plugin_dir.clear();
  }
  options.plugin_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_plugin_timeout_ms));
  options.sync_writes = absl::GetFlag(FLAGS_sync_writes);
  const std::string isolation = absl::GetFlag(FLAGS_plugin_isolation);
  if (isolation == "process") {
    options.plugin_isolation = achilles::plugins::Isolation::kProcess;
  } else if (isolation == "inprocess") {
    options.plugin_isolation = achilles::plugins::Isolation::kInProcess;
  } else {
    std::fprintf(stderr,
                 "--plugin_isolation: '%s' is not inprocess or "
                 "process\n",
                 isolation.c_str());
    return 2;
  }
  options.plugin_worker = absl::GetFlag(FLAGS_plugin_worker);
  options.backup_dir = absl::GetFlag(FLAGS_backup_dir);
  if (absl::GetFlag(FLAGS_store_cache_mb) < 8 ||
      absl::GetFlag(FLAGS_store_memtable_mb) < 8) {
    std::fprintf(stderr,
                 "--store_cache_mb and --store_memtable_mb: at least 8\n");
    return 2;
  }
  options.store_cache_mb = absl::GetFlag(FLAGS_store_cache_mb);
  options.store_memtable_mb = absl::GetFlag(FLAGS_store_memtable_mb);
  if (absl::GetFlag(FLAGS_plugin_worker_memory_mb) < 64) {
    std::fprintf(stderr, "--plugin_worker_memory_mb: at least 64\n");
    return 2;
  }
  options.plugin_worker_memory_mb =
      absl::GetFlag(FLAGS_plugin_worker_memory_mb);
  for (absl::string_view d : absl::StrSplit(
           absl::GetFlag(FLAGS_plugin_allowlist), ',', absl::SkipEmpty())) {
    options.plugin_allowlist.emplace_back(d);
  }
  ApplySecurityFlags(&options);
  if (!ApplyResourceFlags(&options)) return 2;
  auto server = achilles::server::Server::Start(options);
  if (!server.ok()) {
    achilles::Log(achilles::LogLevel::kError,
                  "cannot start: ", server.status().message());
    return 1;
  }

  if (const std::string pf = absl::GetFlag(FLAGS_port_file); !pf.empty()) {
    // Write then rename, so a reader never sees a half-written number.
    const std::string tmp = pf + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%d\n", (*server)->port());
      std::fclose(f);
      std::rename(tmp.c_str(), pf.c_str());
    }
  }

  // The first SIGTERM/SIGINT starts the shutdown (drain first) on its own
  // thread, so that a second one can end the drain.
  std::thread stopper;
  std::atomic<bool> stopped{false};
  while (!stopped.load()) {
    const timespec tick{0, 200 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig < 0) continue;  // Tick or EINTR: look at `stopped` again.
    if (sig == SIGHUP) {
      auto r = (*server)->ReloadPlugins();
      if (!r.ok()) {
        achilles::Log(achilles::LogLevel::kError,
                      "plugin reload failed: ", r.status().message());
      }
      continue;
    }
    const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
    if (stopper.joinable()) {
      achilles::Log(achilles::LogLevel::kInfo, "received ", name,
                    " again: ending the drain");
      (*server)->EndDrain();
      continue;
    }
    achilles::Log(achilles::LogLevel::kInfo, "received ", name);
    stopper = std::thread([&] {
      (*server)->Shutdown();
      stopped = true;
    });
  }
  stopper.join();
  (*server)->Wait();
  return 0;
}
