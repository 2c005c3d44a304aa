#include "services/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/log.h"

namespace achilles::server {

struct Server::Impl {
  std::unique_ptr<storage::TimelineStore> store;
  std::unique_ptr<plugins::PluginHost> host;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<api::PatientServiceImpl> patients;
  std::unique_ptr<api::DecisionServiceImpl> decisions;
  std::unique_ptr<api::PluginServiceImpl> plugins;
  std::unique_ptr<api::PolicyServiceImpl> policies;
  std::unique_ptr<api::CaseloadServiceImpl> caseload;
  std::unique_ptr<api::StoreServiceImpl> store_service;
  std::unique_ptr<grpc::Server> grpc_server;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  absl::Notification done;
};

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options) {
  std::unique_ptr<Server> server(new Server());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;

  storage::StoreOptions store_options;
  store_options.path = options.data_dir;
  store_options.sync_writes = options.sync_writes;
  store_options.block_cache_bytes = options.store_cache_mb << 20;
  store_options.memtable_budget_bytes = options.store_memtable_mb << 20;
  auto store = storage::OpenRocksDbStore(store_options);
  if (!store.ok()) return store.status();
  impl.store = *std::move(store);

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
  auto host = plugins::PluginHost::Create(host_options);
  if (!host.ok()) return host.status();
  impl.host = *std::move(host);
  if (options.plugin_dir.empty()) {
    Log(LogLevel::kWarning,
        "no plugin directory: only the built-in safety screen will run");
  }
  impl.engine =
      std::make_unique<engine::Engine>(impl.store.get(), impl.host.get());

  server->backend_.store = impl.store.get();
  server->backend_.host = impl.host.get();
  server->backend_.engine = impl.engine.get();
  api::Backend* b = &server->backend_;
  impl.patients = std::make_unique<api::PatientServiceImpl>(b);
  impl.decisions = std::make_unique<api::DecisionServiceImpl>(b);
  impl.plugins = std::make_unique<api::PluginServiceImpl>(b);
  impl.policies = std::make_unique<api::PolicyServiceImpl>(b);
  impl.caseload =
      std::make_unique<api::CaseloadServiceImpl>(b, options.caseload_workers);
  impl.store_service =
      std::make_unique<api::StoreServiceImpl>(b, options.backup_dir);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address,
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(impl.patients.get());
  builder.RegisterService(impl.decisions.get());
  builder.RegisterService(impl.plugins.get());
  builder.RegisterService(impl.policies.get());
  builder.RegisterService(impl.caseload.get());
  builder.RegisterService(impl.store_service.get());
  builder.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(api::MakeDecodeErrorInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  impl.grpc_server = builder.BuildAndStart();
  if (impl.grpc_server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address,
                     " (address in use or not valid?)"));
  }
  server->port_ = port;
  impl.grpc_server->GetHealthCheckService()->SetServingStatus(true);
  Log(LogLevel::kInfo, "achilles-server ", ACHILLES_VERSION, " listening on ",
      options.listen_address, " (port ", port, "), data dir ",
      options.data_dir);
  return server;
}

Server::~Server() { Shutdown(absl::Seconds(5)); }

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
    impl_->done.Notify();
    return;
  }
  Log(LogLevel::kInfo, "shutting down: finishing in-flight calls");
  impl_->grpc_server->GetHealthCheckService()->SetServingStatus(false);
  impl_->grpc_server->Shutdown(
      std::chrono::system_clock::now() +
      std::chrono::microseconds(absl::ToInt64Microseconds(grace)));
  impl_->grpc_server->Wait();
  if (auto st = impl_->store->Flush(); !st.ok()) {
    Log(LogLevel::kError, "flush on shutdown failed: ", st.ToString());
  }
  impl_->engine.reset();
  impl_->store.reset();  // Closes the DB and releases its lock.
  Log(LogLevel::kInfo, "store closed; bye");
  impl_->done.Notify();
}

}  // namespace achilles::server
