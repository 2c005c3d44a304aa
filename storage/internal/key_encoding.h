// Key layout of the RocksDB store. Internal to storage/.
//
//   patients    clinic \0 patient
//   events      clinic \0 patient \0 be64(time ^ sign) event_id
//   event_ids   clinic \0 patient \0 event_id            -> events key
//   evaluations clinic \0 patient \0 evaluation_id
//   latest_eval clinic \0 patient                        -> evaluation_id
//   policies    clinic \0 be64(version)
//   feedback    clinic \0 patient \0 evaluation_id \0 be64(time) seq
//   audit       be64(time) be64(seq)
//   records     clinic \0 key   (clinic-wide; keys never contain NUL)
//               clinic \0 patient \0 key   (per patient, erased with it)
//
// Ids never contain NUL (validation guarantees it), so "clinic\0" is a prefix
// of exactly one clinic's keys and "a" never captures "ab". Times are signed
// microseconds with the sign bit flipped, big-endian, so byte order is time
// order, including before 1970.
#ifndef ACHILLES_STORAGE_INTERNAL_KEY_ENCODING_H_
#define ACHILLES_STORAGE_INTERNAL_KEY_ENCODING_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace achilles::storage_internal {

void AppendBigEndian64(std::string* out, uint64_t v);
uint64_t ReadBigEndian64(absl::string_view in);
void AppendTime(std::string* out, int64_t micros);
int64_t ReadTime(absl::string_view in);

std::string ClinicPrefix(absl::string_view clinic);
std::string PatientKey(absl::string_view clinic, absl::string_view patient);
// Prefix of every per-patient key: clinic \0 patient \0.
std::string PatientPrefix(absl::string_view clinic, absl::string_view patient);
std::string EventKey(absl::string_view clinic, absl::string_view patient,
                     int64_t micros, absl::string_view event_id);
// An event key without its patient prefix: be64(time ^ sign) event_id. Within
// one patient, byte order of these suffixes is the store's timeline order.
std::string EventKeySuffix(int64_t micros, absl::string_view event_id);
std::string EventIdKey(absl::string_view clinic, absl::string_view patient,
                       absl::string_view event_id);
std::string PolicyKey(absl::string_view clinic, int64_t version);

// The smallest key greater than every key starting with `prefix`.
std::string PrefixEnd(absl::string_view prefix);

}  // namespace achilles::storage_internal

#endif  // ACHILLES_STORAGE_INTERNAL_KEY_ENCODING_H_
