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
#include "services/ehr/internal/fhir_fetch.h"
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
  // Set instead of `keys`: the issuer's JWKS, fetched when first needed,
  // kept kJwksCacheSeconds, fetched again early for an unknown kid (at
  // most every kJwksRetrySeconds). A token's `jku` must equal it.
  std::string jwks_url;
};

class JwtTrust {
 public:
  // The trust file (docs/EHR.md). INVALID_ARGUMENT naming the element for
  // anything malformed; FAILED_PRECONDITION naming a key file that cannot
  // be read. Relative key paths are relative to the trust file.
  // `outbound` bounds JWKS URL fetches (https unless it allows http).
  static absl::StatusOr<std::unique_ptr<JwtTrust>> Load(
      const std::string& path, const FhirFetchOptions& outbound = {});
  static std::unique_ptr<JwtTrust> FromIssuers(
      std::vector<TrustedIssuer> issuers,
      const FhirFetchOptions& outbound = {});

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
  // Operator-policy values for JWKS URLs (docs/EHR.md).
  static constexpr int64_t kJwksCacheSeconds = 300;
  static constexpr int64_t kJwksRetrySeconds = 30;
  // Keys not confirmed by a fetch for this long are dropped, so a key the
  // EHR withdrew stops working even while its JWKS URL cannot be reached
  // (a security-policy value, docs/EHR.md).
  static constexpr int64_t kJwksMaxStaleSeconds = 3600;
  static constexpr size_t kMaxJwksBytes = 1 << 20;
  static constexpr int kJwksTimeoutSeconds = 5;

 private:
  struct CachedKeys {
    std::vector<IssuerKey> keys;
    int64_t fetched_at = 0;  // 0: never fetched.
    int64_t tried_at = 0;
    bool fetching = false;  // One fetch per issuer at a time.
  };

  JwtTrust(std::vector<TrustedIssuer> issuers, FhirFetchOptions outbound)
      : issuers_(std::move(issuers)), outbound_(std::move(outbound)) {}
  const TrustedIssuer* Find(const std::string& iss) const;
  absl::Status Remember(const std::string& iss, const std::string& jti,
                        int64_t exp, int64_t now_seconds);
  // The issuer's keys: its own, or its JWKS URL's (fetched as described at
  // TrustedIssuer::jwks_url). UNAUTHENTICATED when there are none.
  absl::StatusOr<std::vector<IssuerKey>> KeysOf(const TrustedIssuer& issuer,
                                                const std::string& kid,
                                                int64_t now_seconds);

  std::vector<TrustedIssuer> issuers_;
  const FhirFetchOptions outbound_;
  absl::Mutex keys_mu_;  // Held while a JWKS is fetched (bounded).
  std::map<std::string, CachedKeys> key_cache_ ABSL_GUARDED_BY(keys_mu_);
  absl::Mutex mu_;
  // (iss, jti) -> exp, forgotten once expired.
  std::map<std::pair<std::string, std::string>, int64_t> seen_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_JWT_TRUST_H_
