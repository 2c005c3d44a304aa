// The achilles-cds server: opens the store, loads plugins, and serves the
// gRPC API (with grpc.health.v1 and server reflection) until Shutdown().
//
// Secure by default: every call needs a bearer token (services/security);
// TLS is on when certificate files are given, and plaintext is refused on
// any address but loopback unless insecure_plaintext is set. On first start
// (no credentials stored) an operator token is written to
// bootstrap_token_file (mode 0600) so the operator can issue the others.
//
// Resource bounds: the file-descriptor limit is raised to its hard limit
// and split between connections, the store and plugin workers
// (internal/fd_budget.h); concurrent caseload runs are bounded; a request
// that needs a thread the system refuses fails with RESOURCE_EXHAUSTED.
//
// Shutdown order: report NOT_SERVING to health checks and keep serving, new
// connections included, for the drain period (so load balancers move away
// before the port closes); then stop accepting calls and let in-flight
// calls finish (bounded by a deadline); then flush and close the store.
// Used by main.cc and, in process, by the tests.
// Thread-safety: Shutdown() may be called from any thread, once; EndDrain()
// from any thread, any time.
#ifndef ACHILLES_SERVICES_SERVER_SERVER_H_
#define ACHILLES_SERVICES_SERVER_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/api/api.h"
#include "services/ehr/ehr.h"

namespace achilles::server {

struct ServerOptions {
  std::string listen_address = "127.0.0.1:50051";  // Port 0 = pick one.
  std::string data_dir = "./data";
  std::string plugin_dir;  // Empty = no plugins (safety screen only).
  absl::Duration plugin_timeout = absl::Seconds(2);
  std::vector<std::string> plugin_allowlist;  // SHA-256 hex digests.
  plugins::Isolation plugin_isolation = plugins::Isolation::kInProcess;
  // Empty = achilles-plugin-worker next to the running executable.
  std::string plugin_worker;
  size_t plugin_worker_memory_mb = 1024;
  // The workers' sandbox: CPU seconds per worker, and the user they run as
  // when the server is root (empty = nobody). See plugins/host/plugin_host.h.
  int plugin_cpu_seconds = 10;
  std::string plugin_user;
  bool sync_writes = true;
  // Empty = backups (Checkpoint, Backup) and the erasure log are off.
  std::string backup_dir;
  int backup_keep = 7;  // Incremental backups kept (StoreService.Backup).
  // RocksDB memory budget: shared block cache and memtables.
  size_t store_cache_mb = 64;
  size_t store_memtable_mb = 64;
  int caseload_workers = 0;  // 0 = one per core.

  // Transport. With cert and key, TLS (files re-read every
  // tls_refresh_seconds, so renewed certificates need no restart); with a
  // client CA as well, mutual TLS: clients must present a certificate it
  // signed.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  unsigned int tls_refresh_seconds = 60;
  // Plaintext on a non-loopback address only when set.
  bool insecure_plaintext = false;
  // The EHR listener (CDS Hooks, FHIR, reports; services/ehr), off while
  // ehr.listen_address is empty. Start() copies the tls_* files above into
  // it: one certificate for both ports.
  ehr::ListenerOptions ehr;
  // Empty = <data_dir>/operator.token.
  std::string bootstrap_token_file;
  // Per-clinic request rate (token bucket); 0 = unlimited.
  double clinic_requests_per_second = 1000;
  double clinic_burst = 2000;
  // One shard of a clinic chain: the clinics it serves (empty = all).
  std::vector<std::string> serve_clinics;
  // Resource bounds.
  int max_message_bytes = 4 << 20;  // Both ways: what default clients take.
  int max_concurrent_streams = 64;  // Per connection.
  int max_connection_idle_seconds = 300;
  // Client connections at once; fewer when RLIMIT_NOFILE leaves fewer
  // after the store's and plugins' shares (docs/OPERATIONS.md).
  int max_connections = 1000;
  // RocksDB's open table files; at most half the descriptors left over.
  int store_max_open_files = 512;
  // Threads that run requests' blocking work (0 = 4 per core, 16-128), and
  // how many requests may wait for one; beyond that RESOURCE_EXHAUSTED.
  int request_threads = 0;
  int request_queue = 1024;
  // Concurrent CaseloadService.ReEvaluate streams; more are refused.
  int max_caseload_runs = 2;
  // Prometheus metrics over HTTP on their own port (host:port, port 0 picks
  // one); empty = off. Loopback only unless metrics_allow_remote.
  std::string metrics_address;
  bool metrics_allow_remote = false;
  // How long Shutdown() keeps serving with health NOT_SERVING.
  absl::Duration shutdown_drain = absl::Seconds(2);
};

class Server {
 public:
  // FAILED_PRECONDITION when the data dir is locked by another process,
  // DATA_LOSS when it is corrupt, UNAVAILABLE when the address cannot be
  // bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options);
  // What Start would refuse before touching anything: the transport (TLS
  // files readable, plaintext only on loopback unless allowed), the metrics
  // address, and the data dir's format (a newer one is refused). Binds no
  // port and opens no store. For --check_config.
  static absl::Status CheckOptions(const ServerOptions& options);
  ~Server();

  int port() const { return port_; }
  // The EHR listener's port; 0 when it is off.
  int ehr_port() const;
  // The metrics endpoint's port; 0 when metrics are off.
  int metrics_port() const { return metrics_port_; }
  // Blocks until Shutdown() has completed.
  void Wait();
  // Drains (options.shutdown_drain), then stops; in-flight calls get up to
  // `grace` after the drain.
  void Shutdown(absl::Duration grace = absl::Seconds(10));
  // Ends the drain now (a second SIGTERM), or skips it if not begun.
  void EndDrain();
  absl::StatusOr<plugins::ReloadResult> ReloadPlugins();
  api::Backend* backend() { return &backend_; }
  // Where the first operator token was written ("" when credentials
  // already existed).
  const std::string& bootstrap_token_path() const { return bootstrap_path_; }

 private:
  Server() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  api::Backend backend_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::string bootstrap_path_;
};

}  // namespace achilles::server

#endif  // ACHILLES_SERVICES_SERVER_SERVER_H_
