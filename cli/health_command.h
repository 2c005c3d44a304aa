// achillesctl health [SERVICE]: asks the server's grpc.health.v1 service
// whether it is serving, for container and orchestrator probes (Kubernetes'
// own gRPC probe cannot speak TLS). Needs no token: health says nothing
// about any clinic. Exit 0 when SERVING, 1 otherwise (NOT_SERVING while
// the server drains, or unreachable), with the reason on stderr.
#ifndef ACHILLES_CLI_HEALTH_COMMAND_H_
#define ACHILLES_CLI_HEALTH_COMMAND_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace achilles::cli {

// `args` starts with "health". Returns the process exit status.
int RunHealth(const std::shared_ptr<grpc::Channel>& channel,
              const std::vector<std::string>& args);

}  // namespace achilles::cli

#endif  // ACHILLES_CLI_HEALTH_COMMAND_H_
