// achillesctl import fhir / report: the EHR integration from the command
// line, over the same gRPC API as every other command.
//
//   import fhir BUNDLE.json    FHIR R4 Bundle -> the patient and events
//                              (docs/FHIR_MAPPING.md); all or nothing, each
//                              refused resource printed with its fullUrl.
//   report PATIENT --html F    evaluate now and write the self-contained
//                              clinician report (chart + cards) to F.
#ifndef ACHILLES_CLI_EHR_COMMANDS_H_
#define ACHILLES_CLI_EHR_COMMANDS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace achilles::cli {

// `args` starts with "import" or "report". Returns the exit status.
int RunEhr(const std::shared_ptr<grpc::Channel>& channel,
           const std::vector<std::string>& args, bool json);

}  // namespace achilles::cli

#endif  // ACHILLES_CLI_EHR_COMMANDS_H_
