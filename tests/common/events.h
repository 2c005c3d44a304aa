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

// A run rated `pain_during` that settled after `settle_hours`: a session with
// a complete 24-hour response.
inline v1::Event SettledRun(const std::string& id, int64_t at_us,
                            int pain_during, double settle_hours,
                            double km = 5) {
  v1::Event e = RunEvent(id, at_us, pain_during, km);
  e.mutable_run_session()->mutable_response()->set_settle_time_hours(
      settle_hours);
  return e;
}

// A standalone pain rating (pain during `activity`), tied to no session.
inline v1::Event PainRating(const std::string& id, int64_t at_us, int pain,
                            v1::Activity activity = v1::ACTIVITY_DAILY_LIVING) {
  v1::Event e = MakeEvent(id, at_us);
  e.mutable_pain_report()->set_activity(activity);
  e.mutable_pain_report()->mutable_response()->set_pain_during(pain);
  return e;
}

// A later answer about the session `session_id`; the caller fills in the
// response (mutable_pain_report()->mutable_response()).
inline v1::Event FollowUp(const std::string& id, int64_t at_us,
                          const std::string& session_id) {
  v1::Event e = MakeEvent(id, at_us);
  e.mutable_pain_report()->set_related_event_id(session_id);
  return e;
}

// A morning-stiffness report compared with the patient's usual.
inline v1::Event Stiffness(const std::string& id, int64_t at_us,
                           v1::Comparison vs) {
  v1::Event e = MakeEvent(id, at_us);
  e.mutable_morning_stiffness()->set_vs_baseline(vs);
  return e;
}

// An exercise session of `programme` (in programme week `week`, 0 if none),
// with no pain rated.
inline v1::Event ExerciseEvent(const std::string& id, int64_t at_us,
                               v1::Programme programme, int week = 0) {
  v1::Event e = MakeEvent(id, at_us);
  auto* ex = e.mutable_exercise_session();
  ex->set_exercise(v1::EXERCISE_SINGLE_LEG_HEEL_RAISE_FLAT);
  ex->set_programme(programme);
  ex->set_programme_week(week);
  ex->set_sets(3);
  ex->set_reps(15);
  ex->set_completed(true);
  return e;
}

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_COMMON_EVENTS_H_
