// What every route of the EHR listener shares, and the one wrapper each
// passes through: authenticate (CDS Hooks JWT or an achilles bearer token),
// admit through the security Gate (roles, clinic, rate limit), run, audit,
// answer. Errors are JSON {"error": message} with the HTTP status the
// absl code maps to (400, 401, 403, 404, 409, 412, 429, 503, 500).
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_HTTP_ENV_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_HTTP_ENV_H_

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/api/api.h"
#include "services/ehr/internal/fhir_fetch.h"
#include "services/ehr/internal/jwt_trust.h"

namespace achilles::ehr_internal {

struct HttpEnv {
  api::Backend* backend = nullptr;
  std::unique_ptr<JwtTrust> trust;  // Null: no JWT issuer configured.
  std::string public_url;           // No trailing slash.
  FhirFetchOptions fhir_fetch;      // For prefetch the request lacks.
};

// A status carrying an explicit HTTP code (412 for missing prefetch),
// which absl codes cannot say on their own.
absl::Status PreconditionFailed(const std::string& message);

int HttpStatusOf(const absl::Status& status);
void SendJson(httplib::Response& res, int status, const std::string& body);
void SendError(httplib::Response& res, const absl::Status& status);
// CORS headers CDS Hooks clients running in a browser need.
void AddCors(httplib::Response& res);

// The handler's work: fills `res` on success (the wrapper sends errors).
// `patient_id` is set by the handler as soon as it knows it, for the audit.
using Work = std::function<absl::Status(const security::Caller&,
                                        std::string* patient_id)>;

// Authenticates, admits `method` (an HTTP MethodPolicy), runs `work`,
// records the audit entry and answers errors. A successful call's entry is
// synced before the answer is sent, so `work` may write with
// storage::Durability::kCoveredByNextSync: one fsync per call.
void Serve(HttpEnv& env, const httplib::Request& req, httplib::Response& res,
           const security::MethodPolicy& method, const Work& work);

// The caller behind the request's Authorization header, for routes that
// need it before Serve (the report's link token). UNAUTHENTICATED when
// absent or invalid.
absl::StatusOr<security::Caller> Authenticate(HttpEnv& env,
                                              const httplib::Request& req);

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_HTTP_ENV_H_
