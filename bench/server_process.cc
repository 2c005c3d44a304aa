// A separate achilles-server process for the load benchmark (see
// server_process.h).
#include "bench/server_process.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "achilles/v1/security_service.grpc.pb.h"

extern char** environ;

namespace achilles::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> ServerArgs(const ServerConfig& c) {
  std::vector<std::string> args = {
      c.binary,
      "--listen=127.0.0.1:0",
      "--data_dir=" + c.work_dir + "/data",
      "--port_file=" + c.work_dir + "/port",
      "--log_level=warning",
      "--plugin_dir=" + c.plugin_dir,
      "--plugin_worker=" + c.plugin_worker,
      "--plugin_isolation=" + c.plugin_isolation,
      std::string("--sync_writes=") + (c.sync_writes ? "true" : "false"),
      // The benchmark measures the server, not its per-clinic rate limit,
      // and has no load balancer to drain.
      "--clinic_rate_limit=0",
      "--shutdown_drain_ms=0",
  };
  args.insert(args.end(), c.extra_flags.begin(), c.extra_flags.end());
  return args;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const ServerConfig& config) {
  std::unique_ptr<ServerProcess> s(new ServerProcess(config));
  std::error_code ec;
  std::filesystem::create_directories(config.work_dir, ec);
  if (auto st = s->Spawn(); !st.ok()) return st;
  if (auto st = s->WaitForPort(); !st.ok()) {
    s->Stop();
    return absl::UnavailableError(
        absl::StrCat(st.message(), "; server log:\n", s->LogTail()));
  }
  return s;
}

absl::Status ServerProcess::Spawn() {
  std::vector<std::string> args = ServerArgs(config_);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = config_.work_dir + "/server.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawn(&pid_, config_.binary.c_str(), &actions, nullptr,
                             argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", config_.binary, ": ", std::strerror(rc)));
  }
  return absl::OkStatus();
}

absl::Status ServerProcess::WaitForPort() {
  const auto until = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < until) {
    std::ifstream in(config_.work_dir + "/port");
    if (int port = 0; in >> port && port > 0) {
      port_ = port;
      return absl::OkStatus();
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat(
          "achilles-server exited at start (wait status ", status, ")"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError("achilles-server not serving after 60 s");
}

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto until = Clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > until) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

ServerProcess::~ServerProcess() { Stop(); }

std::string ServerProcess::target() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::string ServerProcess::LogTail() const {
  std::ifstream in(config_.work_dir + "/server.log");
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

absl::StatusOr<std::string> IssueToken(const std::string& target,
                                       const std::string& data_dir,
                                       const std::string& clinic,
                                       v1::Role role) {
  std::ifstream in(data_dir + "/operator.token");
  std::string operator_token;
  if (!(in >> operator_token)) {
    return absl::NotFoundError(
        absl::StrCat("no operator token in ", data_dir,
                     " (a server writes one at its first start only)"));
  }
  auto stub = v1::CredentialService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + operator_token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::IssueTokenRequest req;
  req.set_subject("achilles-load");
  req.set_clinic_id(clinic);
  req.add_roles(role);
  v1::IssueTokenResponse resp;
  const grpc::Status st = stub->IssueToken(&ctx, req, &resp);
  if (!st.ok()) {
    // gRPC's and absl's status codes share their numbers.
    return absl::Status(static_cast<absl::StatusCode>(st.error_code()),
                        absl::StrCat("IssueToken: ", st.error_message()));
  }
  return resp.token();
}

}  // namespace achilles::bench
