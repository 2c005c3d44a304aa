// Fetching what prefetch lacks from the EHR's FHIR server (CDS Hooks 2.0:
// the request's `fhirServer` and `fhirAuthorization`), and an issuer's
// JWKS from its configured URL. A FHIR client of
// cpp-httplib, bounded in time and bytes, that only talks to servers the
// operator allowed for the calling issuer, over https unless the operator
// allowed plain http.
//
// Thread-safety: the functions are safe to call concurrently.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_FHIR_FETCH_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_FHIR_FETCH_H_

#include <chrono>
#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "services/ehr/internal/json_util.h"

namespace achilles::ehr_internal {

struct FhirFetchOptions {
  bool allow_http = false;     // Plain-http FHIR servers (testing only).
  std::string ca_file;         // Empty: the system's trusted CAs.
  int timeout_seconds = 10;    // For all the fetches of one hook call.
  size_t max_bytes = 4 << 20;  // Per prefetch key, all its pages.
  int max_pages = 10;          // Searchset pages followed per key.
};

struct FhirServer {
  std::string base_url;      // fhirServer, without a trailing slash.
  std::string access_token;  // fhirAuthorization.access_token; may be empty.
};

// `relative` ("Patient/p1", "Observation?patient=p1") read from `server`:
// a resource, or for a search every page of the searchset (following
// `next` links on the same server, at most max_pages) merged into one
// Bundle. Status with the reason (never the token) when the server cannot
// be reached, answers other than 200 or too much, or sends
// something that is not a FHIR JSON object. A 404 is NOT_FOUND (the
// resource does not exist).
// Nothing is read past `deadline` (DEADLINE_EXCEEDED).
absl::StatusOr<Json> FetchFhir(const FhirServer& server,
                               const std::string& relative,
                               const FhirFetchOptions& options,
                               std::chrono::steady_clock::time_point deadline);

// One document (a JWKS) by GET from `url`, without credentials, under the
// same rules: https unless allowed, options' timeout and size. Errors name
// `what`.
absl::StatusOr<std::string> FetchDocument(const std::string& url,
                                          const FhirFetchOptions& options,
                                          absl::string_view what);

// INVALID_ARGUMENT unless `url` is an absolute https URL (http too when
// allowed) with a host and no user info, query or fragment.
absl::Status CheckFhirServerUrl(const std::string& url, bool allow_http,
                                absl::string_view what = "fhirServer");

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_FHIR_FETCH_H_
