// achillesctl token ... and audit ...: credentials and the audit trail
// (operator token required).
#ifndef ACHILLES_CLI_SECURITY_COMMANDS_H_
#define ACHILLES_CLI_SECURITY_COMMANDS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace achilles::cli {

// `args` starts with "token" or "audit". Returns the process exit status.
int RunSecurity(const std::shared_ptr<grpc::Channel>& channel,
                const std::vector<std::string>& args, bool json);

}  // namespace achilles::cli

#endif  // ACHILLES_CLI_SECURITY_COMMANDS_H_
