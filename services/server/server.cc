#include "services/server/server.h"

#include <fcntl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "achilles_build_info.h"
#include "common/executor.h"
#include "common/log.h"
#include "common/net_address.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/server/internal/data_format.h"
#include "services/server/internal/fd_budget.h"
#include "services/telemetry/telemetry.h"
#include "services/validation/validation.h"

namespace achilles::server {

struct Server::Impl {
  std::unique_ptr<storage::TimelineStore> store;
  std::unique_ptr<plugins::PluginHost> host;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<security::ServerSecret> secret;
  std::unique_ptr<security::CredentialStore> credentials;
  std::unique_ptr<security::AuditLog> audit;
  std::unique_ptr<security::Gate> gate;
  std::unique_ptr<backup::ErasureLog> erasures;
  std::unique_ptr<api::PatientServiceImpl> patients;
  std::unique_ptr<api::DecisionServiceImpl> decisions;
  std::unique_ptr<api::PluginServiceImpl> plugins;
  std::unique_ptr<api::PolicyServiceImpl> policies;
  std::unique_ptr<api::CaseloadServiceImpl> caseload;
  std::unique_ptr<api::StoreServiceImpl> store_service;
  std::unique_ptr<api::CredentialServiceImpl> credential_service;
  std::unique_ptr<api::AuditServiceImpl> audit_service;
  std::unique_ptr<grpc::Server> grpc_server;
  std::unique_ptr<ehr::Listener> ehr;
  // Before the store goes: the store's collectors read it.
  std::vector<metrics::CollectorHandle> collectors;
  std::unique_ptr<telemetry::MetricsEndpoint> metrics_endpoint;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  absl::Duration drain;
  std::atomic<bool> drain_ended{false};  // Notify drain_over only once.
  absl::Notification drain_over;
  absl::Notification done;
  // Last, so it is destroyed first: its tasks use everything above.
  std::unique_ptr<Executor> executor;

  // Start's steps, in order; each fills its members or says why not.
  absl::Status OpenStore(const ServerOptions& options, int max_open_files);
  absl::Status OpenPlugins(const ServerOptions& options);
  absl::Status OpenSecurity(const ServerOptions& options);
  absl::Status MakeServices(const ServerOptions& options,
                            api::Backend* backend);
  absl::Status ServeMetrics(const ServerOptions& options);
  void StopMetrics();
  absl::StatusOr<int> Listen(
      const ServerOptions& options,
      const std::shared_ptr<grpc::ServerCredentials>& transport,
      const server_internal::FdBudget& fds);
};

namespace {

absl::Status Readable(const std::string& flag, const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(flag, ": cannot read ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Transport(
    const ServerOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file go together");
  }
  if (o.tls_cert_file.empty()) {
    if (!o.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca_file needs --tls_cert_file and --tls_key_file");
    }
    if (!IsLoopbackAddress(o.listen_address) && !o.insecure_plaintext) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing to serve plaintext on ", o.listen_address,
          ", which is not loopback: give --tls_cert_file and --tls_key_file, "
          "or --insecure_plaintext if a proxy in front terminates TLS"));
    }
    return grpc::InsecureServerCredentials();
  }
  for (const auto& [flag, path] :
       {std::pair<const char*, const std::string*>{"--tls_cert_file",
                                                   &o.tls_cert_file},
        {"--tls_key_file", &o.tls_key_file},
        {"--tls_client_ca_file", &o.tls_client_ca_file}}) {
    if (path->empty()) continue;
    ACH_RETURN_IF_ERROR(Readable(flag, *path));
  }
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          o.tls_key_file, o.tls_cert_file, o.tls_client_ca_file,
          o.tls_refresh_seconds);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (!o.tls_client_ca_file.empty()) {
    tls.watch_root_certs();
    tls.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

// The first operator token, so the operator can issue the others. Written
// once, 0600; the log names the file, never the token.
absl::StatusOr<std::string> Bootstrap(security::CredentialStore* credentials,
                                      const ServerOptions& o) {
  if (!credentials->empty()) return std::string();
  const std::string path = o.bootstrap_token_file.empty()
                               ? o.data_dir + "/operator.token"
                               : o.bootstrap_token_file;
  v1::IssueTokenRequest req;
  req.set_subject("bootstrap-operator");
  req.add_roles(v1::ROLE_OPERATOR);
  auto issued = credentials->Issue(req, "achilles-server", NowMicros());
  if (!issued.ok()) return issued.status();
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const std::string line = issued->token() + "\n";
  const bool ok = fd >= 0 &&
                  write(fd, line.data(), line.size()) ==
                      static_cast<ssize_t>(line.size()) &&
                  fsync(fd) == 0;
  if (fd >= 0) close(fd);
  // The directory too, so the file's name survives a power cut.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd =
      open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool dir_ok = dfd >= 0 && fsync(dfd) == 0;
  if (dfd >= 0) close(dfd);
  if (!ok || !dir_ok) {
    return absl::InternalError(
        absl::StrCat("cannot write the operator token to ", path, ": ",
                     std::strerror(errno)));
  }
  return path;
}

// Plugin workers each hold a socket: per plugin file up to
// max(2, cores) workers (the host's default), twice over for the moment a
// reload runs the old and the new set side by side.
int PluginWorkerFds(const ServerOptions& o) {
  if (o.plugin_dir.empty() ||
      o.plugin_isolation != plugins::Isolation::kProcess) {
    return 0;
  }
  int files = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(o.plugin_dir, ec)) {
    if (e.path().extension() == ".so") ++files;
  }
  const int per_plugin =
      std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  return 2 * files * per_plugin;
}

absl::StatusOr<server_internal::FdBudget> PlanDescriptors(
    const ServerOptions& o) {
  const server_internal::FdLimit limit = server_internal::RaiseFdLimit();
  auto budget = server_internal::PlanFdBudget(
      static_cast<int64_t>(std::min<uint64_t>(limit.soft, INT32_MAX)),
      PluginWorkerFds(o), o.store_max_open_files, o.max_connections);
  if (!budget.ok()) return budget.status();
  Log(LogLevel::kInfo, "file descriptors: limit ", limit.soft,
      limit.soft != limit.soft_before
          ? absl::StrCat(" (raised from ", limit.soft_before, ")")
          : std::string(),
      ", hard ", limit.hard, "; ", server_internal::kFixedFds,
      " kept for the server, ", budget->plugin_fds, " for plugin workers, ",
      budget->store_files, " for store files, up to ", budget->connections,
      " for client connections");
  if (budget->connections < o.max_connections) {
    Log(LogLevel::kWarning, "only ", budget->connections,
        " client connections fit in RLIMIT_NOFILE ", limit.soft,
        " (--max_connections=", o.max_connections,
        "); raise LimitNOFILE to allow more");
  }
  return budget;
}

void ApplyLimits(const ServerOptions& o, grpc::ServerBuilder* builder) {
  builder->SetMaxReceiveMessageSize(o.max_message_bytes);
  builder->SetMaxSendMessageSize(o.max_message_bytes);
  // One server per port: with SO_REUSEPORT (gRPC's default) a second server
  // on another data dir would start silently and take half the calls.
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                              o.max_concurrent_streams);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                              o.max_connection_idle_seconds * 1000);
}

}  // namespace

absl::Status Server::Impl::OpenStore(const ServerOptions& options,
                                     int max_open_files) {
  storage::StoreOptions store_options;
  store_options.path = options.data_dir;
  store_options.sync_writes = options.sync_writes;
  store_options.block_cache_bytes = options.store_cache_mb << 20;
  store_options.memtable_budget_bytes = options.store_memtable_mb << 20;
  store_options.max_open_files = max_open_files;
  auto opened = storage::OpenRocksDbStore(store_options);
  if (!opened.ok()) return opened.status();
  store = *std::move(opened);
  return absl::OkStatus();
}

absl::Status Server::Impl::OpenPlugins(const ServerOptions& options) {
  plugins::HostOptions host_options;
  host_options.plugin_dir = options.plugin_dir;
  host_options.call_timeout = options.plugin_timeout;
  host_options.allowed_sha256 = options.plugin_allowlist;
  host_options.isolation = options.plugin_isolation;
  host_options.worker_memory_limit_bytes =
      options.plugin_worker_memory_mb * 1024 * 1024;
  host_options.worker_binary = options.plugin_worker;
  host_options.worker_cpu_seconds = options.plugin_cpu_seconds;
  host_options.worker_user = options.plugin_user;
  if (host_options.worker_binary.empty()) {
    std::error_code ec;
    host_options.worker_binary =
        (std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() /
         "achilles-plugin-worker")
            .string();
  }
  if (access(host_options.worker_binary.c_str(), X_OK) != 0) {
    if (options.plugin_isolation == plugins::Isolation::kProcess) {
      return absl::FailedPreconditionError(
          absl::StrCat("plugin isolation needs the worker executable ",
                       host_options.worker_binary, " (set --plugin_worker)"));
    }
    // In-process hosts use it for trial loads only.
    Log(LogLevel::kWarning, "no ", host_options.worker_binary,
        ": in-process plugins load without a trial load in a worker");
    host_options.worker_binary.clear();
  }
  auto created = plugins::PluginHost::Create(host_options);
  if (!created.ok()) return created.status();
  host = *std::move(created);
  if (options.plugin_dir.empty()) {
    Log(LogLevel::kWarning,
        "no plugin directory: only the built-in safety screen will run");
  }
  engine = std::make_unique<engine::Engine>(store.get(), host.get());
  return absl::OkStatus();
}

absl::Status Server::Impl::OpenSecurity(const ServerOptions& options) {
  auto loaded =
      security::ServerSecret::LoadOrCreate(options.data_dir + "/server.secret");
  if (!loaded.ok()) return loaded.status();
  secret = std::make_unique<security::ServerSecret>(*std::move(loaded));
  auto opened = security::CredentialStore::Open(store.get());
  if (!opened.ok()) return opened.status();
  credentials = *std::move(opened);
  auto log = security::AuditLog::Open(store.get(), secret.get());
  if (!log.ok()) return log.status();
  audit = *std::move(log);
  for (const std::string& clinic : options.serve_clinics) {
    ACH_RETURN_IF_ERROR(validation::ValidateId("--serve_clinics", clinic));
  }
  security::GateOptions gate_options;
  gate_options.clinic_requests_per_second = options.clinic_requests_per_second;
  gate_options.clinic_burst = options.clinic_burst;
  gate_options.served_clinics = options.serve_clinics;
  gate = std::make_unique<security::Gate>(credentials.get(), audit.get(),
                                          secret.get(), gate_options);
  return absl::OkStatus();
}

// Handlers mostly wait (on fsync, on plugin workers), so the pool is
// several times the core count; the default keeps RocksDB's group commit
// fed without letting thousands of threads contend.
int RequestThreads(const ServerOptions& o) {
  if (o.request_threads > 0) return o.request_threads;
  const int cores =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return std::clamp(4 * cores, 16, 128);
}

absl::Status Server::Impl::MakeServices(const ServerOptions& options,
                                        api::Backend* b) {
  auto started = Executor::Start({"request handling", RequestThreads(options),
                                  static_cast<size_t>(options.request_queue)});
  if (!started.ok()) return started.status();
  executor = *std::move(started);
  b->executor = executor.get();
  b->interactive = &b->interactive_gate;
  b->workers = options.caseload_workers;
  b->store = store.get();
  b->host = host.get();
  b->engine = engine.get();
  b->gate = gate.get();
  b->secret = secret.get();
  if (!options.backup_dir.empty()) {
    // Beside the backups, outside them: what a restore needs to erase
    // again the patients erased after the backup it restores.
    auto log = backup::ErasureLog::Open(options.backup_dir);
    if (!log.ok()) return log.status();
    erasures = *std::move(log);
    b->erasures = erasures.get();
    ACH_RETURN_IF_ERROR(
        backup::KeepSecretCopy(options.data_dir, options.backup_dir));
  }
  patients = std::make_unique<api::PatientServiceImpl>(b);
  decisions = std::make_unique<api::DecisionServiceImpl>(b);
  plugins = std::make_unique<api::PluginServiceImpl>(b);
  policies = std::make_unique<api::PolicyServiceImpl>(b);
  caseload =
      std::make_unique<api::CaseloadServiceImpl>(b, options.max_caseload_runs);
  store_service = std::make_unique<api::StoreServiceImpl>(b, options.backup_dir,
                                                          options.backup_keep);
  credential_service = std::make_unique<api::CredentialServiceImpl>(b);
  audit_service = std::make_unique<api::AuditServiceImpl>(b);
  return absl::OkStatus();
}

absl::Status Server::Impl::ServeMetrics(const ServerOptions& options) {
  metrics::Registry* registry = &metrics::Registry::Default();
  telemetry::RecordBuildInfo(ACHILLES_VERSION, ACHILLES_BUILD);
  collectors = telemetry::AddProcessCollectors(registry);
  for (auto& c :
       telemetry::AddStoreCollectors(registry, store.get(), options.data_dir)) {
    collectors.push_back(std::move(c));
  }
  if (options.metrics_address.empty()) return absl::OkStatus();
  auto endpoint = telemetry::MetricsEndpoint::Start(
      {options.metrics_address, options.metrics_allow_remote}, registry);
  if (!endpoint.ok()) return endpoint.status();
  metrics_endpoint = *std::move(endpoint);
  return absl::OkStatus();
}

void Server::Impl::StopMetrics() {
  metrics_endpoint.reset();
  collectors.clear();
}

absl::StatusOr<int> Server::Impl::Listen(
    const ServerOptions& options,
    const std::shared_ptr<grpc::ServerCredentials>& transport,
    const server_internal::FdBudget& fds) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address, transport, &port);
  for (grpc::Service* service : std::initializer_list<grpc::Service*>{
           patients.get(), decisions.get(), plugins.get(), policies.get(),
           caseload.get(), store_service.get(), credential_service.get(),
           audit_service.get()}) {
    builder.RegisterService(service);
  }
  ApplyLimits(options, &builder);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(api::MakeDecodeErrorInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_internal::GuardConnections(fds);
  grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address,
                     " (address in use or not valid?)"));
  }
  grpc_server->GetHealthCheckService()->SetServingStatus(true);
  return port;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options) {
  std::unique_ptr<Server> server(new Server());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.drain = options.shutdown_drain;
  auto fds = PlanDescriptors(options);
  if (!fds.ok()) return fds.status();
  // A newer format is refused before RocksDB touches the files.
  auto format = server_internal::ReadDataFormat(options.data_dir);
  if (!format.ok()) return format.status();
  ACH_RETURN_IF_ERROR(impl.OpenStore(options, fds->store_files));
  ACH_RETURN_IF_ERROR(server_internal::MigrateDataFormat(
      options.data_dir, *format, impl.store.get()));
  ACH_RETURN_IF_ERROR(impl.OpenPlugins(options));
  ACH_RETURN_IF_ERROR(impl.OpenSecurity(options));
  auto bootstrap = Bootstrap(impl.credentials.get(), options);
  if (!bootstrap.ok()) return bootstrap.status();
  server->bootstrap_path_ = *bootstrap;
  auto transport = Transport(options);
  if (!transport.ok()) return transport.status();
  ACH_RETURN_IF_ERROR(impl.MakeServices(options, &server->backend_));
  ACH_RETURN_IF_ERROR(impl.ServeMetrics(options));
  if (impl.metrics_endpoint != nullptr) {
    server->metrics_port_ = impl.metrics_endpoint->port();
    LogEvent(LogLevel::kInfo, "serving metrics",
             {{"address", options.metrics_address},
              {"port", server->metrics_port_},
              {"path", "/metrics"}});
  }
  auto port = impl.Listen(options, *transport, *fds);
  if (!port.ok()) return port.status();
  server->port_ = *port;
  if (!options.ehr.listen_address.empty()) {
    ehr::ListenerOptions o = options.ehr;
    o.tls_cert_file = options.tls_cert_file;
    o.tls_key_file = options.tls_key_file;
    o.tls_client_ca_file = options.tls_client_ca_file;
    o.tls_refresh_seconds = options.tls_refresh_seconds;
    auto listener = ehr::Listener::Start(o, &server->backend_);
    if (!listener.ok()) return listener.status();
    impl.ehr = *std::move(listener);
  }
  Log(LogLevel::kInfo, "achilles-server ", ACHILLES_VERSION, " listening on ",
      options.listen_address, " (port ", *port, ", ",
      options.tls_cert_file.empty()        ? "plaintext"
      : options.tls_client_ca_file.empty() ? "TLS"
                                           : "mutual TLS",
      "), data dir ", options.data_dir);
  if (!server->bootstrap_path_.empty()) {
    Log(LogLevel::kWarning,
        "no credentials yet: an operator token was written to ",
        server->bootstrap_path_,
        "; use it to issue tokens (achillesctl token issue), then keep it "
        "safe or revoke it");
  }
  return server;
}

absl::Status Server::CheckOptions(const ServerOptions& options) {
  if (auto transport = Transport(options); !transport.ok()) {
    return transport.status();
  }
  if (!options.metrics_address.empty()) {
    ACH_RETURN_IF_ERROR(telemetry::CheckEndpointOptions(
        {options.metrics_address, options.metrics_allow_remote}));
  }
  return server_internal::ReadDataFormat(options.data_dir).status();
}

Server::~Server() {
  EndDrain();
  Shutdown(absl::Seconds(5));
}

void Server::EndDrain() {
  if (impl_ != nullptr && !impl_->drain_ended.exchange(true)) {
    impl_->drain_over.Notify();
  }
}

int Server::ehr_port() const {
  return impl_ != nullptr && impl_->ehr != nullptr ? impl_->ehr->port() : 0;
}

void Server::Wait() { impl_->done.WaitForNotification(); }

absl::StatusOr<plugins::ReloadResult> Server::ReloadPlugins() {
  return impl_->host->Reload();
}

void Server::Shutdown(absl::Duration grace) {
  if (impl_ == nullptr) return;
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
  }
  if (impl_->grpc_server == nullptr) {  // Start() failed part way.
    impl_->StopMetrics();
    impl_->done.Notify();
    return;
  }
  impl_->grpc_server->GetHealthCheckService()->SetServingStatus(false);
  if (impl_->drain > absl::ZeroDuration()) {
    // Still listening: a load balancer's next health check (on a new
    // connection, too) sees NOT_SERVING instead of a refused connection,
    // and calls that arrive meanwhile are served.
    Log(LogLevel::kInfo, "shutting down: health is NOT_SERVING; serving for ",
        absl::FormatDuration(impl_->drain), " more before closing the port");
    impl_->drain_over.WaitForNotificationWithTimeout(impl_->drain);
  }
  Log(LogLevel::kInfo, "shutting down: finishing in-flight calls");
  if (impl_->ehr != nullptr) impl_->ehr->Stop();
  impl_->grpc_server->Shutdown(
      std::chrono::system_clock::now() +
      std::chrono::microseconds(absl::ToInt64Microseconds(grace)));
  impl_->grpc_server->Wait();
  impl_->executor->Shutdown();  // Every call has finished: nothing queued.
  impl_->StopMetrics();
  if (auto st = impl_->store->Flush(); !st.ok()) {
    Log(LogLevel::kError, "flush on shutdown failed: ", st.ToString());
  }
  impl_->engine.reset();
  impl_->gate.reset();
  impl_->audit.reset();  // Drains pending audit entries into the store.
  impl_->store.reset();  // Closes the DB and releases its lock.
  Log(LogLevel::kInfo, "store closed; bye");
  impl_->done.Notify();
}

}  // namespace achilles::server
