// achillesctl caseload ...: re-evaluation with a live progress bar, the
// triage worklist, and a synthetic demo caseload generator.
#ifndef ACHILLES_CLI_CASELOAD_COMMANDS_H_
#define ACHILLES_CLI_CASELOAD_COMMANDS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace achilles::cli {

// `args` starts with "caseload". Returns the process exit status.
int RunCaseload(const std::shared_ptr<grpc::Channel>& channel,
                const std::vector<std::string>& args, bool json);

}  // namespace achilles::cli

#endif  // ACHILLES_CLI_CASELOAD_COMMANDS_H_
