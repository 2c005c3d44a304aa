// Small builders for timeline events in tests.
#ifndef ACHILLES_TESTS_COMMON_EVENTS_H_
#define ACHILLES_TESTS_COMMON_EVENTS_H_

#include <cstdint>
#include <string>

#include "achilles/v1/events.pb.h"
#include "common/time_util.h"

namespace achilles::testing {

// 2026-01-05T00:00:00Z, a Monday: day 0 of test timelines.
inline constexpr int64_t kDay0 = int64_t{1767571200} * 1000000;

inline int64_t Day(double d) {
  return kDay0 + static_cast<int64_t>(d * kMicrosPerDay);
}

inline v1::Event MakeEvent(const std::string& id, int64_t at_us) {
  v1::Event e;
  e.set_event_id(id);
  *e.mutable_occurred_at() = FromMicros(at_us);
  return e;
}

inline v1::Event Note(const std::string& id, int64_t at_us,
                      const std::string& text = "note") {
  v1::Event e = MakeEvent(id, at_us);
  e.mutable_note()->set_text(text);
  return e;
}

inline v1::Event RunEvent(const std::string& id, int64_t at_us, int pain_during,
                          double km = 5) {
  v1::Event e = MakeEvent(id, at_us);
  e.mutable_run_session()->set_duration_minutes(30);
  e.mutable_run_session()->set_distance_km(km);
  e.mutable_run_session()->mutable_response()->set_pain_during(pain_during);
  return e;
}

inline v1::Event Finding(const std::string& id, int64_t at_us,
                         v1::Location loc) {
  v1::Event e = MakeEvent(id, at_us);
  e.mutable_finding()->set_location(loc);
  return e;
}

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_COMMON_EVENTS_H_
