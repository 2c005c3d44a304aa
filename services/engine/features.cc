#include "services/engine/features.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "common/time_util.h"

namespace achilles::engine {
namespace {

using ::achilles::v1::Comparison;
using ::achilles::v1::Event;
using ::achilles::v1::Feature;
using ::achilles::v1::Features;
using ::achilles::v1::LoadResponse;

// A run or exercise session with its pain response merged from follow-up
// pain reports that name it.
struct LoadSession {
  const Event* event = nullptr;
  LoadResponse response;
  std::vector<std::string> event_ids;  // The session plus its follow-ups.
  bool is_run = false;
};

void Set(Feature* f, double value, std::vector<std::string> ids,
         int64_t at_us) {
  f->set_present(true);
  f->set_value(value);
  f->clear_event_ids();
  for (auto& id : ids) f->add_event_ids(std::move(id));
  *f->mutable_at() = FromMicros(at_us);
}

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

bool HasAnyPain(const LoadResponse& r) {
  return r.has_pain_during() || r.has_pain_after() ||
         r.has_pain_next_morning() || r.has_settle_time_hours() ||
         r.morning_vs_baseline() != v1::COMPARISON_UNSPECIFIED;
}

// Worst of during/after: the load pain the policy is judged on.
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

// Whether the 24-hour response is acceptable: settled within 24 h (S1, S3)
// and the next morning not worse than usual (S1, S4). Unknown is not OK.
bool ResponseOk(const LoadResponse& r) {
  if (r.morning_vs_baseline() == v1::COMPARISON_WORSE) return false;
  if (r.has_settle_time_hours() && r.settle_time_hours() > 24.0) return false;
  return r.has_settle_time_hours() ||
         r.morning_vs_baseline() == v1::COMPARISON_SAME ||
         r.morning_vs_baseline() == v1::COMPARISON_BETTER;
}

}  // namespace

int GreenCeiling(const v1::ClinicPolicy& policy) {
  if (policy.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5) {
    const int max_ok =
        policy.silbernagel_max_ok() > 0 ? policy.silbernagel_max_ok() : 5;
    return policy.silbernagel_strictly_below() ? max_ok - 1 : max_ok;
  }
  return 3;
}

const char* PainModelName(const v1::ClinicPolicy& policy) {
  if (policy.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5) {
    return policy.silbernagel_strictly_below()
               ? "Silbernagel pain-monitoring, pain must stay below the limit "
                 "(SIL, S1)"
               : "Silbernagel pain-monitoring (SIL)";
  }
  return "traffic light: 0-3 green, 4-5 amber, 6+ red (S4, S3)";
}

v1::PainZone ZoneFor(int pain, bool response_ok,
                     const v1::ClinicPolicy& policy) {
  if (policy.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5) {
    if (pain > GreenCeiling(policy)) return v1::PAIN_ZONE_RED;
    return response_ok ? v1::PAIN_ZONE_GREEN : v1::PAIN_ZONE_AMBER;
  }
  if (pain <= 3) return v1::PAIN_ZONE_GREEN;
  if (pain <= 5) return v1::PAIN_ZONE_AMBER;
  return v1::PAIN_ZONE_RED;
}

Features ComputeFeatures(const std::vector<Event>& timeline, int64_t as_of_us,
                         const v1::ClinicPolicy& policy) {
  Features f;
  f.set_event_count(static_cast<int>(timeline.size()));
  if (timeline.empty()) return f;
  const int64_t first_us = ToMicros(timeline.front().occurred_at());
  f.set_days_of_history(
      static_cast<int>((as_of_us - first_us) / kMicrosPerDay));

  // Follow-up pain reports, keyed by the session they describe.
  absl::flat_hash_map<std::string, std::vector<const Event*>> follow_ups;
  for (const Event& e : timeline) {
    if (e.has_pain_report() && !e.pain_report().related_event_id().empty()) {
      follow_ups[e.pain_report().related_event_id()].push_back(&e);
    }
  }

  std::vector<LoadSession> sessions;
  std::optional<int64_t> first_exercise_us;
  std::string first_exercise_id;
  int64_t last_finding_us = 0;
  // Latest-wins state for symptoms whose report can be withdrawn.
  std::optional<std::pair<bool, const Event*>> limping;
  std::vector<std::pair<int64_t, int>> daily_pain;  // (time, worst pain)
  std::vector<std::pair<int64_t, std::string>> pain_ids;

  for (const Event& e : timeline) {
    const int64_t t = ToMicros(e.occurred_at());
    switch (e.kind_case()) {
      case Event::kFinding: {
        const auto& fd = e.finding();
        bool used = false;
        if (fd.location() != v1::LOCATION_UNSPECIFIED) {
          f.set_location(fd.location());
          used = true;
        }
        if (fd.stage() != v1::STAGE_UNSPECIFIED) {
          f.set_stage(fd.stage());
          used = true;
        }
        if (fd.has_nodule()) {
          Set(f.mutable_nodule(), fd.nodule() ? 1 : 0, {e.event_id()}, t);
          used = true;
        }
        if (fd.has_tear_ruled_out()) {
          Set(f.mutable_tear_ruled_out(), fd.tear_ruled_out() ? 1 : 0,
              {e.event_id()}, t);
          used = true;
        }
        if (fd.has_can_single_leg_heel_raise()) {
          Set(f.mutable_can_single_leg_heel_raise(),
              fd.can_single_leg_heel_raise() ? 1 : 0, {e.event_id()}, t);
          used = true;
        }
        if (fd.has_single_leg_heel_raise_pain()) {
          Set(f.mutable_single_leg_heel_raise_pain(),
              fd.single_leg_heel_raise_pain(), {e.event_id()}, t);
          used = true;
        }
        if (used) {
          if (t != last_finding_us) f.clear_finding_event_ids();
          last_finding_us = t;
          f.add_finding_event_ids(e.event_id());
        }
        break;
      }
      case Event::kQuestionnaire:
        if (e.questionnaire().kind() == v1::QUESTIONNAIRE_VISA_A) {
          if (!f.visa_a_first().present()) {
            Set(f.mutable_visa_a_first(), e.questionnaire().total_score(),
                {e.event_id()}, t);
          }
          Set(f.mutable_visa_a_latest(), e.questionnaire().total_score(),
              {e.event_id()}, t);
        }
        break;
      case Event::kRunSession:
      case Event::kExerciseSession: {
        LoadSession s;
        s.event = &e;
        s.is_run = e.has_run_session();
        s.response = s.is_run ? e.run_session().response()
                              : e.exercise_session().response();
        s.event_ids.push_back(e.event_id());
        if (auto it = follow_ups.find(e.event_id()); it != follow_ups.end()) {
          for (const Event* fu : it->second) {
            MergeResponse(fu->pain_report().response(), &s.response);
            s.event_ids.push_back(fu->event_id());
          }
        }
        if (!s.is_run && !first_exercise_us) {
          first_exercise_us = t;
          first_exercise_id = e.event_id();
        }
        if (s.response.has_limping()) {
          limping = std::make_pair(s.response.limping(), &e);
        }
        if (auto p = WorstPain(s.response)) {
          daily_pain.emplace_back(t, *p);
          pain_ids.emplace_back(t, e.event_id());
        }
        if (s.response.morning_vs_baseline() != v1::COMPARISON_UNSPECIFIED) {
          if (s.response.morning_vs_baseline() == v1::COMPARISON_WORSE) {
            auto* c = f.mutable_consecutive_worse_mornings();
            std::vector<std::string> ids(c->event_ids().begin(),
                                         c->event_ids().end());
            ids.push_back(e.event_id());
            Set(c, c->value() + 1, ids, t);
          } else {
            f.clear_consecutive_worse_mornings();
          }
        }
        sessions.push_back(std::move(s));
        break;
      }
      case Event::kPainReport: {
        const auto& pr = e.pain_report();
        if (!pr.related_event_id().empty()) break;  // Merged above.
        // A rating of running or exercise pain with no logged session stands
        // for a session whose details were not recorded: the pain rules
        // apply to it just the same.
        if (pr.activity() == v1::ACTIVITY_RUNNING ||
            pr.activity() == v1::ACTIVITY_EXERCISE) {
          LoadSession s;
          s.event = &e;
          s.is_run = pr.activity() == v1::ACTIVITY_RUNNING;
          s.response = pr.response();
          s.event_ids.push_back(e.event_id());
          sessions.push_back(std::move(s));
        }
        auto p = WorstPain(pr.response());
        if (!p) break;
        daily_pain.emplace_back(t, *p);
        pain_ids.emplace_back(t, e.event_id());
        Feature* target = nullptr;
        switch (pr.activity()) {
          case v1::ACTIVITY_RUNNING:
            target = f.mutable_latest_pain_running();
            break;
          case v1::ACTIVITY_WALKING:
            target = f.mutable_latest_pain_walking();
            break;
          case v1::ACTIVITY_EXERCISE:
          case v1::ACTIVITY_HEEL_RAISE_TEST:
            target = f.mutable_latest_pain_exercise();
            break;
          default:
            target = f.mutable_latest_pain_daily_living();
        }
        Set(target, *p, {e.event_id()}, t);
        if (pr.response().has_limping()) {
          limping = std::make_pair(pr.response().limping(), &e);
        }
        break;
      }
      case Event::kMorningStiffness: {
        Set(f.mutable_morning_stiffness_reported(), 1, {e.event_id()}, t);
        const auto cmp = e.morning_stiffness().vs_baseline();
        if (cmp == v1::COMPARISON_WORSE) {
          auto* c = f.mutable_consecutive_worse_mornings();
          std::vector<std::string> ids(c->event_ids().begin(),
                                       c->event_ids().end());
          ids.push_back(e.event_id());
          Set(c, c->value() + 1, ids, t);
        } else if (cmp != v1::COMPARISON_UNSPECIFIED) {
          f.clear_consecutive_worse_mornings();
        }
        break;
      }
      case Event::kSymptomFlags:
        if (e.symptom_flags().has_limping()) {
          limping = std::make_pair(e.symptom_flags().limping(), &e);
        }
        break;
      case Event::kFootwear: {
        const auto& fw = e.footwear();
        if (fw.has_heel_drop_mm()) {
          Set(f.mutable_shoe_drop_mm(), fw.heel_drop_mm(), {e.event_id()}, t);
        }
        if (fw.has_heel_lift_mm()) {
          Set(f.mutable_heel_lift_mm(), fw.heel_lift_mm(), {e.event_id()}, t);
        }
        Set(f.mutable_barefoot_or_minimalist(),
            fw.barefoot_or_minimalist() ? 1 : 0, {e.event_id()}, t);
        break;
      }
      case Event::kTreatmentRequest:
        if (e.treatment_request().treatment() ==
            v1::TREATMENT_CORTISONE_INJECTION) {
          Set(f.mutable_cortisone_requested(), 1, {e.event_id()}, t);
        }
        break;
      case Event::kTrainingGoal:
        if (e.training_goal().target_weekly_distance_km() > 0) {
          Set(f.mutable_target_weekly_km(),
              e.training_goal().target_weekly_distance_km(), {e.event_id()}, t);
        }
        Set(f.mutable_race_planned(), e.training_goal().race_planned() ? 1 : 0,
            {e.event_id()}, t);
        break;
      default:
        break;
    }
  }

  if (limping && limping->first) {
    Set(f.mutable_limping(), 1, {limping->second->event_id()},
        ToMicros(limping->second->occurred_at()));
  }
  if (first_exercise_us) {
    Set(f.mutable_days_on_programme(),
        static_cast<double>((as_of_us - *first_exercise_us) / kMicrosPerDay),
        {first_exercise_id}, *first_exercise_us);
  }

  // The most recent session with any pain response.
  const LoadSession* last = nullptr;
  for (auto it = sessions.rbegin(); it != sessions.rend(); ++it) {
    if (HasAnyPain(it->response)) {
      last = &*it;
      break;
    }
  }
  if (last != nullptr) {
    const int64_t t = ToMicros(last->event->occurred_at());
    const auto& r = last->response;
    f.set_last_load_event_id(last->event->event_id());
    f.set_last_load_kind(last->is_run ? "run" : "exercise");
    if (r.has_pain_during()) {
      Set(f.mutable_last_pain_during(), r.pain_during(), last->event_ids, t);
    }
    if (r.has_pain_after()) {
      Set(f.mutable_last_pain_after(), r.pain_after(), last->event_ids, t);
    }
    if (r.has_pain_next_morning()) {
      Set(f.mutable_last_pain_next_morning(), r.pain_next_morning(),
          last->event_ids, t);
    }
    if (r.has_pain_before()) {
      Set(f.mutable_last_pain_before(), r.pain_before(), last->event_ids, t);
    }
    if (r.has_settle_time_hours()) {
      Set(f.mutable_last_settle_hours(), r.settle_time_hours(), last->event_ids,
          t);
    }
    if (r.has_eased_with_warmup()) {
      Set(f.mutable_last_eased_with_warmup(), r.eased_with_warmup() ? 1 : 0,
          last->event_ids, t);
    }
    f.set_last_morning_vs_baseline(r.morning_vs_baseline());
  }

  // Runs: volume, ladder, spacing.
  const LoadSession* last_run = nullptr;
  const LoadSession* last_run_with_settle = nullptr;
  double km7 = 0, km_prior7 = 0;
  std::vector<std::string> km7_ids, km_prior_ids;
  std::vector<int64_t> run_days;
  for (const LoadSession& s : sessions) {
    if (!s.is_run) continue;
    const int64_t t = ToMicros(s.event->occurred_at());
    last_run = &s;
    if (s.response.has_settle_time_hours()) last_run_with_settle = &s;
    const double km = s.event->run_session().distance_km();
    if (t > as_of_us - 7 * kMicrosPerDay) {
      km7 += km;
      km7_ids.push_back(s.event->event_id());
    } else if (t > as_of_us - 14 * kMicrosPerDay) {
      km_prior7 += km;
      km_prior_ids.push_back(s.event->event_id());
    }
    if (t > as_of_us - 14 * kMicrosPerDay) {
      run_days.push_back(t / kMicrosPerDay);
    }
    if (s.event->run_session().cadence_spm() > 0) {
      Set(f.mutable_last_cadence_spm(), s.event->run_session().cadence_spm(),
          {s.event->event_id()}, t);
    }
  }
  if (last_run != nullptr) {
    const int64_t t = ToMicros(last_run->event->occurred_at());
    Set(f.mutable_days_since_last_run(),
        static_cast<double>((as_of_us - t) / kMicrosPerDay),
        {last_run->event->event_id()}, t);
    Set(f.mutable_run_km_last_7d(), km7, km7_ids, as_of_us);
    Set(f.mutable_run_km_prior_7d(), km_prior7, km_prior_ids, as_of_us);
    if (km_prior7 > 0) {
      Set(f.mutable_run_km_change_pct(), 100.0 * (km7 - km_prior7) / km_prior7,
          km7_ids, as_of_us);
    }
  }
  if (last_run_with_settle != nullptr &&
      last_run_with_settle->response.settle_time_hours() > 48.0) {
    // Count the run of recent over-48 h runs, newest first, for rationale.
    std::vector<std::string> ids;
    for (auto it = sessions.rbegin(); it != sessions.rend(); ++it) {
      if (!it->is_run || !it->response.has_settle_time_hours()) continue;
      if (it->response.settle_time_hours() <= 48.0) break;
      ids.push_back(it->event->event_id());
    }
    std::reverse(ids.begin(), ids.end());
    Set(f.mutable_runs_settle_over_48h(), static_cast<double>(ids.size()), ids,
        ToMicros(last_run_with_settle->event->occurred_at()));
  }
  std::sort(run_days.begin(), run_days.end());
  run_days.erase(std::unique(run_days.begin(), run_days.end()), run_days.end());
  int b2b = 0;
  for (size_t i = 1; i < run_days.size(); ++i) {
    if (run_days[i] - run_days[i - 1] == 1) ++b2b;
  }
  if (!run_days.empty()) {
    Set(f.mutable_back_to_back_run_days(), b2b, {}, as_of_us);
  }

  // Runs in a row, newest first, that flared (CLINICAL.md RF-9: "repeated
  // spikes after each attempt to run"). Runs without a 24 h response are
  // skipped, not counted either way.
  {
    std::vector<std::string> ids;
    for (auto it = sessions.rbegin(); it != sessions.rend(); ++it) {
      if (!it->is_run) continue;
      const auto& r = it->response;
      const bool known = r.has_settle_time_hours() ||
                         r.morning_vs_baseline() != v1::COMPARISON_UNSPECIFIED;
      if (!known) continue;
      const bool flared =
          (r.has_settle_time_hours() && r.settle_time_hours() > 24.0) ||
          r.morning_vs_baseline() == v1::COMPARISON_WORSE;
      if (!flared) break;
      ids.push_back(it->event->event_id());
    }
    if (!ids.empty()) {
      std::reverse(ids.begin(), ids.end());
      Set(f.mutable_runs_flared_in_a_row(), static_cast<double>(ids.size()),
          ids, as_of_us);
    }
  }

  // Ladder level and how many sessions at it went well in a row.
  int level = 0;
  for (auto it = sessions.rbegin(); it != sessions.rend(); ++it) {
    if (it->is_run && it->event->run_session().ladder_level() > 0) {
      level = it->event->run_session().ladder_level();
      Set(f.mutable_last_ladder_level(), level, {it->event->event_id()},
          ToMicros(it->event->occurred_at()));
      break;
    }
  }
  if (level > 0) {
    int ok = 0;
    std::vector<std::string> ids;
    for (auto it = sessions.rbegin(); it != sessions.rend(); ++it) {
      if (!it->is_run) continue;
      if (it->event->run_session().ladder_level() != level) break;
      auto pain = LoadPain(it->response);
      const bool resp_ok = ResponseOk(it->response);
      if (!pain || !resp_ok ||
          ZoneFor(*pain, resp_ok, policy) != v1::PAIN_ZONE_GREEN) {
        break;
      }
      ++ok;
      ids.push_back(it->event->event_id());
    }
    std::reverse(ids.begin(), ids.end());
    Set(f.mutable_sessions_ok_at_level(), ok, ids, as_of_us);
  }

  // Exercise programmes.
  int hsr_week = 0;
  int hsr_count = 0;
  std::vector<std::string> hsr_ids;
  const LoadSession* prev_ex = nullptr;
  const LoadSession* last_ex = nullptr;
  int iso = 0;
  std::vector<std::string> iso_ids;
  const LoadSession* last_iso = nullptr;
  for (const LoadSession& s : sessions) {
    if (s.is_run || !s.event->has_exercise_session()) continue;
    const auto& ex = s.event->exercise_session();
    if (ex.programme() == v1::PROGRAMME_HEAVY_SLOW_RESISTANCE &&
        ex.programme_week() > 0) {
      if (ex.programme_week() > hsr_week) {
        hsr_week = ex.programme_week();
        hsr_count = 0;
        hsr_ids.clear();
      }
      if (ex.programme_week() == hsr_week) {
        ++hsr_count;
        hsr_ids.push_back(s.event->event_id());
      }
    }
    if (ex.rm() > 0) {
      Set(f.mutable_last_exercise_rm(), ex.rm(), {s.event->event_id()},
          ToMicros(s.event->occurred_at()));
    }
    const bool isometric =
        ex.programme() == v1::PROGRAMME_ISOMETRIC ||
        ex.exercise() == v1::EXERCISE_ISOMETRIC_HOLD_DOUBLE_LEG ||
        ex.exercise() == v1::EXERCISE_ISOMETRIC_HOLD_SINGLE_LEG;
    if (isometric) {
      ++iso;
      iso_ids.push_back(s.event->event_id());
      last_iso = &s;
    }
    if (s.response.has_pain_after()) {
      prev_ex = last_ex;
      last_ex = &s;
    }
  }
  if (hsr_week > 0) {
    Set(f.mutable_hsr_last_week(), hsr_week, hsr_ids, as_of_us);
    Set(f.mutable_hsr_sessions_last_week(), hsr_count, hsr_ids, as_of_us);
  }
  if (last_ex != nullptr && prev_ex != nullptr) {
    Set(f.mutable_pain_after_exercise_increase(),
        last_ex->response.pain_after() - prev_ex->response.pain_after(),
        {prev_ex->event->event_id(), last_ex->event->event_id()},
        ToMicros(last_ex->event->occurred_at()));
  }
  if (iso > 0) {
    Set(f.mutable_isometric_sessions(), iso, iso_ids, as_of_us);
    if (last_iso->response.has_pain_before() &&
        last_iso->response.has_pain_after()) {
      Set(f.mutable_isometric_pain_change(),
          last_iso->response.pain_after() - last_iso->response.pain_before(),
          {last_iso->event->event_id()},
          ToMicros(last_iso->event->occurred_at()));
    }
  }

  if (!daily_pain.empty()) {
    f.set_days_of_symptom_history(static_cast<int>(
        (as_of_us - daily_pain.front().first) / kMicrosPerDay));
  }

  // Week-on-week pain: mean of each day's worst pain, in 7-day windows ending
  // at as_of, oldest first (CLINICAL.md A: trend judged over 2-4 weeks; three
  // windows = 3 weeks).
  constexpr int kWindows = 3;
  std::map<int64_t, int> worst_by_day[kWindows];
  for (size_t i = 0; i < daily_pain.size(); ++i) {
    const auto [t, p] = daily_pain[i];
    const int64_t age = as_of_us - t;
    if (age < 0 || age >= kWindows * 7 * kMicrosPerDay) continue;
    const int w = kWindows - 1 - static_cast<int>(age / (7 * kMicrosPerDay));
    int& slot = worst_by_day[w][t / kMicrosPerDay];
    slot = std::max(slot, p);
    f.add_pain_trend_event_ids(pain_ids[i].second);
  }
  std::vector<double> means;
  for (int w = 0; w < kWindows; ++w) {
    if (worst_by_day[w].empty()) continue;
    double sum = 0;
    for (const auto& [day, p] : worst_by_day[w]) sum += p;
    means.push_back(sum / static_cast<double>(worst_by_day[w].size()));
  }
  for (double m : means) f.add_weekly_mean_pain(m);
  if (means.size() >= 2) {
    bool rising = true, falling = true;
    for (size_t i = 1; i < means.size(); ++i) {
      rising = rising && means[i] > means[i - 1];
      falling = falling && means[i] < means[i - 1];
    }
    // Two windows are too few to call a direction (one noisy week decides);
    // a trend needs three windows moving the same way.
    if (means.size() >= 3 && rising) {
      f.set_pain_trend(v1::TREND_WORSENING);
    } else if (means.size() >= 3 && falling) {
      f.set_pain_trend(v1::TREND_IMPROVING);
    } else {
      f.set_pain_trend(v1::TREND_STABLE);
    }
  }
  if (f.consecutive_worse_mornings().value() >= 2) {
    f.set_stiffness_trend(v1::TREND_WORSENING);
  }

  // Pain policy verdict on the latest session (CLINICAL.md C).
  if (last != nullptr) {
    if (auto pain = LoadPain(last->response)) {
      f.set_pain_zone(ZoneFor(*pain, ResponseOk(last->response), policy));
    }
  }
  return f;
}

}  // namespace achilles::engine
