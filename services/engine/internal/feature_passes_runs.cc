// Feature passes over runs: volume and the 10% rule, settle times and
// flares, the walk-jog ladder and its final stage, and the run pattern.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/engine/features.h"
#include "services/engine/internal/feature_passes.h"

namespace achilles::engine::engine_internal {
namespace {

constexpr int64_t kWeekUs = 7 * kMicrosPerDay;
// D4 (S4): weekly mileage up by at most 10%.
constexpr double kMaxWeeklyRisePct = 10.0;

struct Volume {
  double km7 = 0, km_prior7 = 0;
  std::vector<std::string> ids7, ids_prior;
};

void AddToVolume(const LoadSession& s, int64_t as_of_us, Volume* v) {
  const double km = s.run != nullptr ? s.run->distance_km() : 0;
  if (s.t > as_of_us - kWeekUs) {
    v->km7 += km;
    v->ids7.push_back(s.event->event_id());
  } else if (s.t > as_of_us - 2 * kWeekUs) {
    v->km_prior7 += km;
    v->ids_prior.push_back(s.event->event_id());
  }
}

void SetVolume(const Volume& v, int64_t as_of_us, v1::Features* f) {
  SetFeature(f->mutable_run_km_last_7d(), v.km7, v.ids7, as_of_us);
  SetFeature(f->mutable_run_km_prior_7d(), v.km_prior7, v.ids_prior, as_of_us);
  if (v.km_prior7 <= 0) return;
  const double pct = 100.0 * (v.km7 - v.km_prior7) / v.km_prior7;
  SetFeature(f->mutable_run_km_change_pct(), pct, v.ids7, as_of_us);
  // A rise over 10% is a spike: the week before it is the baseline the next
  // week's cap is computed from, not the spiked week.
  if (pct > kMaxWeeklyRisePct + 1e-9) {
    f->set_load_spike(true);
    SetFeature(f->mutable_run_km_baseline(), v.km_prior7, v.ids_prior,
               as_of_us);
    SetFeature(
        f->mutable_run_km_cap(),
        std::round(v.km_prior7 * (1 + kMaxWeeklyRisePct / 100) * 10) / 10,
        v.ids_prior, as_of_us);
  }
}

// The unbroken run of most recent runs that took over 48 h to settle.
void SettleOver48(const TimelineView& view, v1::Features* f) {
  std::vector<std::string> ids;
  int64_t latest = 0;
  for (auto it = view.sessions.rbegin(); it != view.sessions.rend(); ++it) {
    if (!it->is_run || !it->response.has_settle_time_hours()) continue;
    if (it->response.settle_time_hours() <= 48.0) break;
    if (ids.empty()) latest = it->t;
    ids.push_back(it->event->event_id());
  }
  if (ids.empty()) return;
  std::reverse(ids.begin(), ids.end());
  SetFeature(f->mutable_runs_settle_over_48h(), static_cast<double>(ids.size()),
             ids, latest);
}

// Runs in a row, newest first, that flared (RF-9: repeated spikes after
// each attempt to run). Runs without a 24 h response are skipped.
void FlaredInARow(const TimelineView& view, v1::Features* f) {
  std::vector<std::string> ids;
  int64_t latest = 0;
  for (auto it = view.sessions.rbegin(); it != view.sessions.rend(); ++it) {
    if (!it->is_run) continue;
    const auto& r = it->response;
    const bool known = r.has_settle_time_hours() ||
                       r.morning_vs_baseline() != v1::COMPARISON_UNSPECIFIED;
    if (!known) continue;
    if (!ResponseBad(r)) break;
    if (ids.empty()) latest = it->t;
    ids.push_back(it->event->event_id());
  }
  if (ids.empty()) return;
  std::reverse(ids.begin(), ids.end());
  SetFeature(f->mutable_runs_flared_in_a_row(), static_cast<double>(ids.size()),
             ids, latest);
}

void RunDetails(const LoadSession& s, v1::Features* f) {
  if (s.run == nullptr) return;
  const std::string& id = s.event->event_id();
  if (s.run->cadence_spm() > 0) {
    SetFeature(f->mutable_last_cadence_spm(), s.run->cadence_spm(), {id}, s.t);
  }
  if (s.run->foot_strike() != v1::FOOT_STRIKE_UNSPECIFIED) {
    SetFeature(f->mutable_forefoot_strike(),
               s.run->foot_strike() == v1::FOOT_STRIKE_FOREFOOT ? 1 : 0, {id},
               s.t);
  }
}

int LadderLevel(const LoadSession& s) {
  return s.run != nullptr ? s.run->ladder_level() : 0;
}

// Hills, in D4's final stage: up and down terrain. A downhill-only run is
// not hill training (and is blocked for insertional tendons, INS-X3).
bool Hilly(const v1::RunSession& r) {
  return r.terrain() == v1::TERRAIN_HILLS ||
         r.terrain() == v1::TERRAIN_UNDULATING;
}

bool Fast(const v1::RunSession& r) {
  return r.intensity() == v1::INTENSITY_HARD ||
         r.intensity() == v1::INTENSITY_RACE;
}

// D4 final stage: good runs in a row since the ladder reached L5 (level 5
// or unlabelled runs after it), and how many were on hills or at speed.
void FinalStage(const TimelineView& view, v1::Features* f) {
  std::vector<std::string> ok, hills, speed;
  int64_t at = view.as_of_us;  // A count of none is as of now.
  for (auto it = view.sessions.rbegin(); it != view.sessions.rend(); ++it) {
    if (!it->is_run) continue;
    const int level = LadderLevel(*it);
    if ((level > 0 && level < 5) || !GoodSession(it->response, *view.policy)) {
      break;
    }
    if (ok.empty()) at = it->t;
    ok.push_back(it->event->event_id());
    if (it->run != nullptr && Hilly(*it->run)) hills.push_back(ok.back());
    if (it->run != nullptr && Fast(*it->run)) speed.push_back(ok.back());
  }
  for (auto* v : {&ok, &hills, &speed}) std::reverse(v->begin(), v->end());
  SetFeature(f->mutable_continuous_runs_ok(), ok.size(), ok, at);
  SetFeature(f->mutable_hill_runs_ok(), hills.size(), hills, at);
  SetFeature(f->mutable_speed_runs_ok(), speed.size(), speed, at);
}

std::string DayPair(int64_t day) {
  return absl::StrCat(FormatDay(day * kMicrosPerDay), "/",
                      FormatDay((day + 1) * kMicrosPerDay));
}

void BackToBack(const TimelineView& view, int64_t since_us, v1::Features* f) {
  std::map<int64_t, std::vector<std::string>> ids_by_day;
  for (const LoadSession& s : view.sessions) {
    if (s.is_run && s.t > since_us) {
      ids_by_day[s.t / kMicrosPerDay].push_back(s.event->event_id());
    }
  }
  if (ids_by_day.empty()) return;
  int pairs = 0;
  std::set<std::string> ids;
  for (auto it = ids_by_day.begin(); it != ids_by_day.end(); ++it) {
    auto next = std::next(it);
    if (next == ids_by_day.end() || next->first != it->first + 1) continue;
    ++pairs;
    f->add_back_to_back_run_dates(DayPair(it->first));
    ids.insert(it->second.begin(), it->second.end());
    ids.insert(next->second.begin(), next->second.end());
  }
  for (const auto& id : ids) f->add_back_to_back_run_event_ids(id);
  SetFeature(f->mutable_back_to_back_run_days(), pairs,
             {ids.begin(), ids.end()}, view.as_of_us);
}

void HardRunsWithin48h(const TimelineView& view, int64_t since_us,
                       v1::Features* f) {
  const LoadSession* prev = nullptr;
  for (const LoadSession& s : view.sessions) {
    if (s.run == nullptr || !Fast(*s.run) || s.t <= since_us) continue;
    if (prev != nullptr && s.t - prev->t < 48 * kMicrosPerHour) {
      f->add_hard_runs_within_48h_dates(
          absl::StrCat(FormatDay(prev->t), "/", FormatDay(s.t)));
      f->add_hard_runs_within_48h_event_ids(prev->event->event_id());
      f->add_hard_runs_within_48h_event_ids(s.event->event_id());
    }
    prev = &s;
  }
}

void WeekPattern(const TimelineView& view, v1::Features* f) {
  std::set<int64_t> days;
  std::vector<std::string> ids;
  for (const LoadSession& s : view.sessions) {
    if (!s.is_run || s.t <= view.as_of_us - kWeekUs) continue;
    days.insert(s.t / kMicrosPerDay);
    ids.push_back(s.event->event_id());
  }
  SetFeature(f->mutable_runs_last_7d(), ids.size(), ids, view.as_of_us);
  SetFeature(f->mutable_rest_days_last_7d(), 7 - static_cast<int>(days.size()),
             ids, view.as_of_us);
}

// D4 regression: rated runs in a row at `level`, newest first, whose load
// pain was above the clinic's green ceiling. Unrated runs are skipped.
void AboveGreenAtLevel(const TimelineView& view, int level, v1::Features* f) {
  std::vector<std::string> ids;
  int64_t latest = view.as_of_us;  // A count of none is as of now.
  for (auto it = view.sessions.rbegin(); it != view.sessions.rend(); ++it) {
    if (!it->is_run) continue;
    if (LadderLevel(*it) != level) break;
    const auto pain = LoadPain(it->response);
    if (!pain) continue;
    if (*pain <= GreenCeiling(*view.policy)) break;
    if (ids.empty()) latest = it->t;
    ids.push_back(it->event->event_id());
  }
  std::reverse(ids.begin(), ids.end());
  SetFeature(f->mutable_runs_above_green_at_level(), ids.size(), ids, latest);
}

}  // namespace

void RunVolumePass(const TimelineView& view, v1::Features* f) {
  const LoadSession* last_run = nullptr;
  Volume volume;
  for (const LoadSession& s : view.sessions) {
    if (!s.is_run) continue;
    last_run = &s;
    AddToVolume(s, view.as_of_us, &volume);
    RunDetails(s, f);
  }
  if (last_run == nullptr) return;
  f->set_is_runner(true);
  SetFeature(f->mutable_days_since_last_run(),
             DaysBetween(last_run->t, view.as_of_us),
             {last_run->event->event_id()}, last_run->t);
  SetVolume(volume, view.as_of_us, f);
  SettleOver48(view, f);
  FlaredInARow(view, f);
}

void LadderPass(const TimelineView& view, v1::Features* f) {
  int level = 0;
  for (auto it = view.sessions.rbegin(); it != view.sessions.rend(); ++it) {
    if (it->is_run && LadderLevel(*it) > 0) {
      level = LadderLevel(*it);
      SetFeature(f->mutable_last_ladder_level(), level, {it->event->event_id()},
                 it->t);
      break;
    }
  }
  if (level == 0) return;
  std::vector<std::string> ids;
  int64_t latest = view.as_of_us;  // A count of none is as of now.
  for (auto it = view.sessions.rbegin(); it != view.sessions.rend(); ++it) {
    if (!it->is_run) continue;
    if (LadderLevel(*it) != level) break;
    if (!GoodSession(it->response, *view.policy)) break;
    if (ids.empty()) latest = it->t;
    ids.push_back(it->event->event_id());
  }
  std::reverse(ids.begin(), ids.end());
  // `at` is the newest counted session, so the count shows its age.
  SetFeature(f->mutable_sessions_ok_at_level(), ids.size(), ids, latest);
  AboveGreenAtLevel(view, level, f);
  if (level == 5) FinalStage(view, f);
}

void RunPatternPass(const TimelineView& view, v1::Features* f) {
  if (!f->is_runner() || !f->days_since_last_run().present()) return;
  const int64_t since =
      view.as_of_us - RecencyWindowDays(*view.policy) * kMicrosPerDay;
  BackToBack(view, since, f);
  HardRunsWithin48h(view, since, f);
  WeekPattern(view, f);
}

}  // namespace achilles::engine::engine_internal
