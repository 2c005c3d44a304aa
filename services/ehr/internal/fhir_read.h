// Reading FHIR R4 JSON elements for the import: typed accessors that say
// which element is wrong and why, never throw. Used by fhir_import.cc.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_FHIR_READ_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_FHIR_READ_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/ehr/internal/json_util.h"

namespace achilles::ehr_internal {

// FHIR dateTime/instant ("2026-03-01", "2026-03-01T08:00:00Z", with
// fraction or offset) as microseconds. A date alone is midnight UTC.
absl::StatusOr<int64_t> ParseFhirDateTime(const std::string& field,
                                          const std::string& text);
// The code of the first coding in CodeableConcept `cc` from `system`.
std::optional<std::string> CodeIn(const Json& cc, const char* system);
// The Observation.component whose code has `code` in `system`, or null.
const Json* FindComponent(const Json& obs, const char* system,
                          const char* code);
// valueInteger, valueDecimal or valueQuantity.value of `holder` (an
// Observation or a component): nullopt when none is present.
absl::StatusOr<std::optional<double>> NumericValue(const std::string& field,
                                                   const Json& holder);
// An integer NRS 0-10 from `holder`'s value; nullopt when absent.
absl::StatusOr<std::optional<int>> PainValue(const std::string& field,
                                             const Json& holder);
// The patient id of a reference "Patient/<id>".
absl::StatusOr<std::string> PatientOf(const std::string& field,
                                      const Json& reference);

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_FHIR_READ_H_
