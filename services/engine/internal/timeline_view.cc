#include "services/engine/internal/timeline_view.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "common/time_util.h"
#include "services/engine/features.h"

namespace achilles::engine::engine_internal {
namespace {

using ::achilles::v1::Event;
using ::achilles::v1::LoadResponse;

using FollowUps = absl::flat_hash_map<std::string, std::vector<const Event*>>;

void MergeResponse(const LoadResponse& from, LoadResponse* into) {
  if (from.has_pain_during()) into->set_pain_during(from.pain_during());
  if (from.has_pain_after()) into->set_pain_after(from.pain_after());
  if (from.has_pain_next_morning()) {
    into->set_pain_next_morning(from.pain_next_morning());
  }
  if (from.has_pain_before()) into->set_pain_before(from.pain_before());
  if (from.morning_vs_baseline() != v1::COMPARISON_UNSPECIFIED) {
    into->set_morning_vs_baseline(from.morning_vs_baseline());
  }
  if (from.has_settle_time_hours()) {
    into->set_settle_time_hours(from.settle_time_hours());
  }
  if (from.has_eased_with_warmup()) {
    into->set_eased_with_warmup(from.eased_with_warmup());
  }
  if (from.has_limping()) into->set_limping(from.limping());
}

// Follow-up pain reports, keyed by the session they describe.
FollowUps IndexFollowUps(storage::EventSpan timeline) {
  FollowUps out;
  for (const Event& e : timeline) {
    if (e.has_pain_report() && !e.pain_report().related_event_id().empty()) {
      out[e.pain_report().related_event_id()].push_back(&e);
    }
  }
  return out;
}

LoadSession SessionOf(const Event& e, const FollowUps& follow_ups) {
  LoadSession s;
  s.event = &e;
  s.t = ToMicros(e.occurred_at());
  s.event_ids.push_back(e.event_id());
  if (e.has_run_session()) {
    s.is_run = true;
    s.run = &e.run_session();
    s.response = e.run_session().response();
  } else if (e.has_exercise_session()) {
    s.exercise = &e.exercise_session();
    s.response = e.exercise_session().response();
  } else {
    s.is_run = e.pain_report().activity() == v1::ACTIVITY_RUNNING;
    s.response = e.pain_report().response();
  }
  if (auto it = follow_ups.find(e.event_id()); it != follow_ups.end()) {
    for (const Event* fu : it->second) {
      MergeResponse(fu->pain_report().response(), &s.response);
      s.event_ids.push_back(fu->event_id());
    }
  }
  return s;
}

void AddPain(const LoadSession& s, v1::Activity activity, TimelineView* v) {
  if (auto p = WorstPain(s.response)) {
    v->pains.push_back({s.t, *p, activity, s.event->event_id()});
  }
  if (s.response.morning_vs_baseline() != v1::COMPARISON_UNSPECIFIED) {
    v->stiffness.push_back({s.t, s.response.morning_vs_baseline(), std::nullopt,
                            std::nullopt, s.event->event_id()});
  }
}

void AddStandalonePain(const Event& e, TimelineView* v) {
  const auto& pr = e.pain_report();
  if (auto p = WorstPain(pr.response())) {
    v->pains.push_back(
        {ToMicros(e.occurred_at()), *p, pr.activity(), e.event_id()});
  }
}

void AddStiffness(const Event& e, TimelineView* v) {
  const auto& ms = e.morning_stiffness();
  StiffnessPoint p{ToMicros(e.occurred_at()), ms.vs_baseline(), std::nullopt,
                   std::nullopt, e.event_id()};
  if (ms.has_severity()) p.severity = ms.severity();
  if (ms.has_minutes()) p.minutes = ms.minutes();
  v->stiffness.push_back(std::move(p));
}

}  // namespace

TimelineView BuildTimelineView(storage::EventSpan timeline, int64_t as_of_us,
                               const v1::ClinicPolicy& policy) {
  TimelineView v;
  v.timeline = timeline;
  v.as_of_us = as_of_us;
  v.policy = &policy;
  const FollowUps follow_ups = IndexFollowUps(timeline);
  for (const Event& e : timeline) {
    if (e.has_run_session() || e.has_exercise_session()) {
      v.sessions.push_back(SessionOf(e, follow_ups));
      AddPain(
          v.sessions.back(),
          e.has_run_session() ? v1::ACTIVITY_RUNNING : v1::ACTIVITY_EXERCISE,
          &v);
    } else if (e.has_pain_report() &&
               e.pain_report().related_event_id().empty()) {
      // A rating of running or exercise pain with no logged session stands
      // for a session whose details were not recorded: the pain rules apply
      // to it just the same.
      const auto activity = e.pain_report().activity();
      if (activity == v1::ACTIVITY_RUNNING ||
          activity == v1::ACTIVITY_EXERCISE) {
        v.sessions.push_back(SessionOf(e, follow_ups));
      }
      AddStandalonePain(e, &v);
    } else if (e.has_morning_stiffness()) {
      AddStiffness(e, &v);
    }
  }
  return v;
}

void SetFeature(v1::Feature* f, double value, std::vector<std::string> ids,
                int64_t at_us) {
  f->set_present(true);
  f->set_value(value);
  f->clear_event_ids();
  for (auto& id : ids) f->add_event_ids(std::move(id));
  *f->mutable_at() = FromMicros(at_us);
}

std::optional<int> LoadPain(const LoadResponse& r) {
  std::optional<int> p;
  if (r.has_pain_during()) p = r.pain_during();
  if (r.has_pain_after()) p = std::max(p.value_or(0), r.pain_after());
  return p;
}

std::optional<int> WorstPain(const LoadResponse& r) {
  std::optional<int> p = LoadPain(r);
  if (r.has_pain_next_morning()) {
    p = std::max(p.value_or(0), r.pain_next_morning());
  }
  return p;
}

bool HasAnyPain(const LoadResponse& r) {
  return r.has_pain_during() || r.has_pain_after() ||
         r.has_pain_next_morning() || r.has_settle_time_hours() ||
         r.morning_vs_baseline() != v1::COMPARISON_UNSPECIFIED;
}

bool ResponseOk(const LoadResponse& r) {
  if (ResponseBad(r)) return false;
  return r.has_settle_time_hours() ||
         r.morning_vs_baseline() == v1::COMPARISON_SAME ||
         r.morning_vs_baseline() == v1::COMPARISON_BETTER;
}

bool ResponseBad(const LoadResponse& r) {
  return r.morning_vs_baseline() == v1::COMPARISON_WORSE ||
         (r.has_settle_time_hours() && r.settle_time_hours() > 24.0);
}

bool GoodSession(const LoadResponse& r, const v1::ClinicPolicy& policy) {
  const auto pain = LoadPain(r);
  const bool ok = ResponseOk(r);
  return pain && ok && ZoneFor(*pain, ok, policy) == v1::PAIN_ZONE_GREEN;
}

int DaysBetween(int64_t from_us, int64_t to_us) {
  const int64_t d = to_us - from_us;
  // Floor division, so an event one microsecond before as_of is day 0.
  return static_cast<int>(d >= 0 ? d / kMicrosPerDay
                                 : -((-d + kMicrosPerDay - 1) / kMicrosPerDay));
}

int RecencyWindowDays(const v1::ClinicPolicy& policy) {
  return policy.recency_window_days() > 0 ? policy.recency_window_days()
                                          : kDefaultRecencyWindowDays;
}

int TrendWeeks(const v1::ClinicPolicy& policy) {
  return policy.trend_weeks() > 0 ? policy.trend_weeks() : kDefaultTrendWeeks;
}

}  // namespace achilles::engine::engine_internal
