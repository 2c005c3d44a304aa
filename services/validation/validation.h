// Request validation: every field a client sends is checked here before it
// reaches the engine or the store. Each error is INVALID_ARGUMENT with a
// message naming the field path and the reason, e.g.
//   "events[2].run_session.response.pain_during: 11 is outside 0-10".
// Pure functions; thread-safe.
#ifndef ACHILLES_SERVICES_VALIDATION_VALIDATION_H_
#define ACHILLES_SERVICES_VALIDATION_VALIDATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "achilles/v1/events.pb.h"
#include "achilles/v1/policy.pb.h"
#include "common/utf8.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"

namespace achilles::validation {

// Largest AppendEvents batch.
inline constexpr int kMaxBatch = 500;
// How far in the future occurred_at / as_of may be, for clock skew between
// the EHR and this server.
inline constexpr int64_t kClockSkewMicros = int64_t{5} * 60 * 1000000;

// Most patient ids one ReEvaluate request may name.
inline constexpr int kMaxPatientIds = 10000;

// 1-64 chars of [A-Za-z0-9._:-].
absl::Status ValidateId(absl::string_view field, absl::string_view id);
// At most `max` ids, each valid, none twice (the message names both
// indexes, e.g. "patient_ids[7]: 'p1' repeats patient_ids[2]").
absl::Status ValidateIdList(
    absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& ids, int max);
// Every timestamp a request carries goes through here: nanos 0-999999999
// and a date from 1900-01-01 to 2200-01-01. That keeps the conversion to
// microseconds and the store's key encoding far from overflow, and catches
// seconds-vs-milliseconds mix-ups.
absl::Status ValidateTimestamp(const std::string& field,
                               const google::protobuf::Timestamp& ts);
// ValidateTimestamp, and no later than now_us plus kClockSkewMicros.
absl::Status ValidatePastTimestamp(const std::string& field,
                                   const google::protobuf::Timestamp& ts,
                                   int64_t now_us);
absl::Status ValidatePatient(const achilles::v1::Patient& patient);
// `field` prefixes the messages, e.g. "events[3]".
absl::Status ValidateEvent(const std::string& field,
                           const achilles::v1::Event& event, int64_t now_us);
// Everything AppendEvents checks before touching the store, in this order:
// 1 to kMaxBatch events, each event (ValidateEvent as "events[i]"), and no
// event_id twice with different content (a byte-identical repeat is a
// harmless retry; the store keeps one copy). The first problem found, as
// INVALID_ARGUMENT. Shared with achilles-plugin-test, which must refuse
// exactly the scenarios the server would.
absl::Status ValidateEventBatch(const std::vector<achilles::v1::Event>& events,
                                int64_t now_us);
absl::Status ValidateEventBatch(
    const google::protobuf::RepeatedPtrField<achilles::v1::Event>& events,
    int64_t now_us);
absl::Status ValidatePolicy(const achilles::v1::ClinicPolicy& policy);
// Who changed a policy: at most 128 bytes of UTF-8 without control
// characters (the policy, and so every evaluation, embeds it).
absl::Status ValidatePolicyAuthor(const std::string& field,
                                  const std::string& author);
// UTF-8 validity (proto3 parsing also enforces it for string fields; this
// covers text from other sources such as metadata): common/utf8.h.
using ::achilles::IsValidUtf8;

}  // namespace achilles::validation

#endif  // ACHILLES_SERVICES_VALIDATION_VALIDATION_H_
