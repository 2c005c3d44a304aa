// The FHIR code profile this server reads and writes (docs/FHIR_MAPPING.md
// is the same table for people). Pain uses LOINC's 0-10 numeric pain
// score; everything without a standard code uses this server's own code
// system, so a reader never has to guess what a value means.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_FHIR_CODES_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_FHIR_CODES_H_

#include <google/protobuf/descriptor.h>

#include <optional>
#include <string>

namespace achilles::ehr_internal {

inline constexpr char kLoinc[] = "http://loinc.org";
// LOINC 72514-3: pain severity, 0-10 verbal numeric rating, reported.
inline constexpr char kLoincPainNrs[] = "72514-3";
inline constexpr char kCodes[] = "urn:achilles-cds:fhir:code";
// Enum values (activity, exercise, intensity, terrain, comparison,
// location, stage) are coded in this system by their proto name without
// the prefix, lower case, '-' for '_': EXERCISE_SEATED_SOLEUS_RAISE is
// "seated-soleus-raise".
inline constexpr char kValues[] = "urn:achilles-cds:fhir:value";
inline constexpr char kVisaA[] = "urn:achilles-cds:fhir:questionnaire:visa-a";

// Observation.code (kCodes) of the non-pain profiles.
inline constexpr char kMorningStiffness[] = "morning-stiffness";
inline constexpr char kRunSession[] = "run-session";
inline constexpr char kExerciseSession[] = "exercise-session";

// The enum value `code` names (see kValues), or nullopt.
std::optional<int> EnumFromCode(const google::protobuf::EnumDescriptor* e,
                                const std::string& prefix,
                                const std::string& code);
// The code of enum value `number` (empty for 0 / unknown).
std::string CodeFromEnum(const google::protobuf::EnumDescriptor* e,
                         const std::string& prefix, int number);

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_FHIR_CODES_H_
