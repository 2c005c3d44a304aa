// Role names as people type them ("ehr", "clinician", "clinic-admin",
// "operator"), for the server's messages and achillesctl's flags. Header
// only: depends on the generated security_service messages alone.
#ifndef ACHILLES_SERVICES_SECURITY_ROLES_H_
#define ACHILLES_SERVICES_SECURITY_ROLES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "achilles/v1/security_service.pb.h"

namespace achilles::security {

inline constexpr v1::Role kRoles[] = {v1::ROLE_EHR, v1::ROLE_CLINICIAN,
                                      v1::ROLE_CLINIC_ADMIN, v1::ROLE_OPERATOR};

inline std::string RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_EHR:
      return "ehr";
    case v1::ROLE_CLINICIAN:
      return "clinician";
    case v1::ROLE_CLINIC_ADMIN:
      return "clinic-admin";
    case v1::ROLE_OPERATOR:
      return "operator";
    default:
      return "unknown";
  }
}

// INVALID_ARGUMENT naming the word when it is not a role.
inline absl::StatusOr<v1::Role> ParseRole(const std::string& name) {
  for (v1::Role r : kRoles) {
    if (name == RoleName(r)) return r;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("role '", name,
                   "' is not one of ehr, clinician, clinic-admin, operator"));
}

}  // namespace achilles::security

#endif  // ACHILLES_SERVICES_SECURITY_ROLES_H_
