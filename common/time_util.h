// Conversions between protobuf Timestamps, absl::Time and the microsecond
// integers the store keys on. Thread-safe; no state.
#ifndef ACHILLES_COMMON_TIME_UTIL_H_
#define ACHILLES_COMMON_TIME_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace achilles {

int64_t ToMicros(const google::protobuf::Timestamp& ts);
google::protobuf::Timestamp FromMicros(int64_t micros);
int64_t NowMicros();
// "2026-11-28 09:05 UTC": how dates appear in rationale text.
std::string FormatMicros(int64_t micros);
// "2026-11-28": day granularity for clinicians.
std::string FormatDay(int64_t micros);

constexpr int64_t kMicrosPerHour = int64_t{3600} * 1000 * 1000;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

}  // namespace achilles

#endif  // ACHILLES_COMMON_TIME_UTIL_H_
