// JSON Web Key Sets (RFC 7517) as the PEM public keys libjwt verifies
// with: RSA keys (n, e) for RS384 and P-384 EC keys (crv, x, y) for ES384,
// built with OpenSSL. Keys of other types or curves are refused by name.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_JWKS_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_JWKS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/ehr/internal/jwt_trust.h"

namespace achilles::ehr_internal {

// INVALID_ARGUMENT naming `field` and the key at fault.
absl::StatusOr<std::vector<IssuerKey>> KeysFromJwks(const std::string& json,
                                                    const std::string& field);

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_JWKS_H_
