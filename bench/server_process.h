// An achilles-server started as a separate process for achilles-load, so
// its CPU time can be read from /proc apart from the load generator's.
// Started on 127.0.0.1:0 (it writes its port to a file), with its output
// in a log file; on first start it writes an operator token into its data
// dir, which IssueToken() uses to get the token the benchmark calls with.
#ifndef ACHILLES_BENCH_SERVER_PROCESS_H_
#define ACHILLES_BENCH_SERVER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "achilles/v1/security_service.pb.h"

namespace achilles::bench {

struct ServerConfig {
  std::string binary;    // achilles-server.
  std::string work_dir;  // Holds data/, the port file and server.log.
  std::string plugin_dir;
  std::string plugin_worker;
  std::string plugin_isolation;  // "inprocess" or "process".
  bool sync_writes = true;
  std::vector<std::string> extra_flags;
};

class ServerProcess {
 public:
  // Waits up to 60 s for the port; the error carries the log's tail.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const ServerConfig& config);
  ~ServerProcess();  // Stop().
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // SIGTERM, then SIGKILL if it has not ended within 20 s.
  void Stop();

  pid_t pid() const { return pid_; }
  std::string target() const;
  std::string data_dir() const { return config_.work_dir + "/data"; }
  std::string LogTail() const;

 private:
  explicit ServerProcess(const ServerConfig& config) : config_(config) {}
  absl::Status Spawn();
  absl::Status WaitForPort();

  ServerConfig config_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Issues a token for `clinic` with `role` through CredentialService,
// authorized by the operator token the server wrote into `data_dir`.
absl::StatusOr<std::string> IssueToken(const std::string& target,
                                       const std::string& data_dir,
                                       const std::string& clinic,
                                       v1::Role role);

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_SERVER_PROCESS_H_
