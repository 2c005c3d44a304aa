// CDS Hooks authentication: the EHR signs a short-lived JWT with its
// private key; we verify it against the public keys configured for its
// issuer and map the issuer onto a clinic and roles.
//
// Checked, per CDS Hooks 2.0 security: alg (ES384 or RS384 only; never
// "none"), the signature under the issuer's key (by kid when the header
// names one), iss (a configured issuer), aud (this endpoint's URL), exp (in
// the future, lifetime bounded), iat (not in the future), jti (present and
// never seen before while the token lives), sub (present).
// Thread-safety: Verify may be called concurrently.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_JWT_TRUST_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_JWT_TRUST_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/security/security.h"

namespace achilles::ehr_internal {

struct IssuerKey {
  std::string kid;  // Empty: tried for tokens without a kid.
  std::string pem;  // Public key, PEM.
};

struct TrustedIssuer {
  std::string iss;
  std::string clinic;
  security::RoleSet roles = 0;
  std::vector<IssuerKey> keys;
  // FHIR servers (base URLs) this issuer's requests may name as
  // `fhirServer` for the service to fetch from; empty = none.
  std::vector<std::string> fhir_servers;
};

class JwtTrust {
 public:
  // The trust file (docs/EHR.md). INVALID_ARGUMENT naming the element for
  // anything malformed; FAILED_PRECONDITION naming a key file that cannot
  // be read. Relative key paths are relative to the trust file.
  static absl::StatusOr<std::unique_ptr<JwtTrust>> Load(
      const std::string& path);
  static std::unique_ptr<JwtTrust> FromIssuers(
      std::vector<TrustedIssuer> issuers);

  // The caller the token stands for. UNAUTHENTICATED with the reason (never
  // echoing the token) for any failed check; `audiences` are the URLs this
  // request may be addressed to.
  absl::StatusOr<security::Caller> Verify(
      const std::string& token, const std::vector<std::string>& audiences,
      int64_t now_seconds);

  // Whether `caller` (as Verify returned it) may have the service fetch
  // from `fhir_server` (a base URL without a trailing slash).
  bool AllowsFhirServer(const security::Caller& caller,
                        const std::string& fhir_server) const;

  static constexpr int64_t kMaxLifetimeSeconds = 3600;
  static constexpr int64_t kSkewSeconds = 60;
  static constexpr size_t kMaxRememberedJti = 100000;

 private:
  explicit JwtTrust(std::vector<TrustedIssuer> issuers)
      : issuers_(std::move(issuers)) {}
  const TrustedIssuer* Find(const std::string& iss) const;
  absl::Status Remember(const std::string& iss, const std::string& jti,
                        int64_t exp, int64_t now_seconds);

  std::vector<TrustedIssuer> issuers_;
  absl::Mutex mu_;
  // (iss, jti) -> exp, forgotten once expired.
  std::map<std::pair<std::string, std::string>, int64_t> seen_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_JWT_TRUST_H_
