// A CDS Hooks service call's common part: the request read and checked
// (hook, hookInstance, context.patientId, prefetch, fhirServer and
// fhirAuthorization), prefetch completed from the EHR's FHIR server when
// it lacks templates and the trust file allows that server, and imported
// all or nothing (docs/EHR.md).
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_HOOK_REQUEST_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_HOOK_REQUEST_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/ehr/internal/fhir_fetch.h"
#include "services/ehr/internal/http_env.h"
#include "services/ehr/internal/json_util.h"

namespace achilles::ehr_internal {

// The prefetch templates every service of ours declares.
OJson Prefetch();

// INVALID_ARGUMENT naming `field`.
absl::Status Bad(const std::string& field, absl::string_view why);

struct HookRequest {
  std::string patient_id;
  const Json* context = nullptr;          // Points into the parsed body.
  const Json* prefetch = nullptr;         // Null when absent or JSON null.
  std::optional<FhirServer> fhir_server;  // fhirServer and its token.
};

// `body` checked for `hook` (the hook this service answers). The result
// points into `body`, which must outlive it.
absl::StatusOr<HookRequest> ReadHookRequest(const Json& body,
                                            const std::string& hook);

// Imports the prefetch, completed from the FHIR server where it may be;
// 412 (PreconditionFailed) when there is none and the patient is unknown.
absl::Status ImportPrefetch(HttpEnv& env, const security::Caller& caller,
                            const HookRequest& hook);

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_HOOK_REQUEST_H_
