// Feature pass over exercise sessions: the HSR week, isometric holds, pain
// after exercise and time on the programme.
#include "services/engine/internal/feature_passes.h"

namespace achilles::engine::engine_internal {
namespace {

bool Isometric(const v1::ExerciseSession& ex) {
  return ex.programme() == v1::PROGRAMME_ISOMETRIC ||
         ex.exercise() == v1::EXERCISE_ISOMETRIC_HOLD_DOUBLE_LEG ||
         ex.exercise() == v1::EXERCISE_ISOMETRIC_HOLD_SINGLE_LEG;
}

struct HsrWeek {
  int week = 0;
  std::vector<std::string> ids;
  int64_t last_t = 0;
};

void CountHsr(const LoadSession& s, HsrWeek* hsr) {
  const auto& ex = *s.exercise;
  if (ex.programme() != v1::PROGRAMME_HEAVY_SLOW_RESISTANCE ||
      ex.programme_week() <= 0) {
    return;
  }
  if (ex.programme_week() > hsr->week) {
    hsr->week = ex.programme_week();
    hsr->ids.clear();
  }
  if (ex.programme_week() == hsr->week) {
    hsr->ids.push_back(s.event->event_id());
    hsr->last_t = s.t;
  }
}

}  // namespace

void ExercisePass(const TimelineView& view, v1::Features* f) {
  HsrWeek hsr;
  const LoadSession* first = nullptr;
  const LoadSession* prev_rated = nullptr;
  const LoadSession* last_rated = nullptr;
  const LoadSession* last_iso = nullptr;
  std::vector<std::string> iso_ids;
  for (const LoadSession& s : view.sessions) {
    if (s.is_run || s.exercise == nullptr) continue;
    if (first == nullptr) first = &s;
    CountHsr(s, &hsr);
    if (s.exercise->rm() > 0) {
      SetFeature(f->mutable_last_exercise_rm(), s.exercise->rm(),
                 {s.event->event_id()}, s.t);
    }
    if (Isometric(*s.exercise)) {
      iso_ids.push_back(s.event->event_id());
      last_iso = &s;
    }
    if (s.response.has_pain_after()) {
      prev_rated = last_rated;
      last_rated = &s;
    }
  }
  if (first != nullptr) {
    SetFeature(f->mutable_days_on_programme(),
               DaysBetween(first->t, view.as_of_us), {first->event->event_id()},
               first->t);
  }
  if (hsr.week > 0) {
    // `at` is the week's latest session, so its age is visible.
    SetFeature(f->mutable_hsr_last_week(), hsr.week, hsr.ids, hsr.last_t);
    SetFeature(f->mutable_hsr_sessions_last_week(), hsr.ids.size(), hsr.ids,
               hsr.last_t);
  }
  if (last_rated != nullptr && prev_rated != nullptr) {
    SetFeature(
        f->mutable_pain_after_exercise_increase(),
        last_rated->response.pain_after() - prev_rated->response.pain_after(),
        {prev_rated->event->event_id(), last_rated->event->event_id()},
        last_rated->t);
  }
  if (last_iso == nullptr) return;
  SetFeature(f->mutable_isometric_sessions(), iso_ids.size(), iso_ids,
             last_iso->t);
  const auto& r = last_iso->response;
  if (r.has_pain_before() && r.has_pain_after()) {
    SetFeature(f->mutable_isometric_pain_change(),
               r.pain_after() - r.pain_before(), {last_iso->event->event_id()},
               last_iso->t);
  }
}

}  // namespace achilles::engine::engine_internal
