#include "common/time_util.h"

#include "absl/time/clock.h"

namespace achilles {

int64_t ToMicros(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000000 + ts.nanos() / 1000;
}

google::protobuf::Timestamp FromMicros(int64_t micros) {
  google::protobuf::Timestamp ts;
  int64_t seconds = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rem * 1000));
  return ts;
}

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

std::string FormatMicros(int64_t micros) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::FromUnixMicros(micros),
                          absl::UTCTimeZone());
}

std::string FormatDay(int64_t micros) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMicros(micros),
                          absl::UTCTimeZone());
}

}  // namespace achilles
