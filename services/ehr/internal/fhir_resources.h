// One FHIR resource -> one event (or the patient). Each returns
// INVALID_ARGUMENT naming the element and reason; the caller adds the
// entry's fullUrl. Used by fhir_import.cc (ParseBundle).
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_FHIR_RESOURCES_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_FHIR_RESOURCES_H_

#include <string>

#include "absl/status/statusor.h"
#include "achilles/v1/events.pb.h"
#include "services/ehr/internal/json_util.h"

namespace achilles::ehr_internal {

// "fhir:<O|Q|C>:<id>:<version>", or a digest form when that is too long:
// the same resource version always gives the same event id.
std::string EventIdFor(const std::string& type, const std::string& id,
                       const std::string& version);

absl::StatusOr<v1::Event> ObservationToEvent(const Json& r);
absl::StatusOr<v1::Event> QuestionnaireResponseToEvent(const Json& r);
absl::StatusOr<v1::Event> ConditionToEvent(const Json& r);
absl::StatusOr<v1::Patient> PatientFromResource(const Json& r);

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_FHIR_RESOURCES_H_
