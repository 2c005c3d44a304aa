// Feature passes over time: four weekly summaries, the pain and stiffness
// trends judged from their values over the clinic's trend window (RF-7),
// and the age of every input against the recency window (T-RECENCY).
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/time_util.h"
#include "services/engine/internal/feature_passes.h"

namespace achilles::engine::engine_internal {
namespace {

constexpr int kWindows = 4;  // The widest trend window allowed (4 weeks).
constexpr int64_t kWeekUs = 7 * kMicrosPerDay;

// Window index of an instant: 3 = the last 7 days, -1 outside the windows.
int WindowOf(int64_t t, int64_t as_of_us) {
  const int64_t age = as_of_us - t;
  if (age < 0 || age >= kWindows * kWeekUs) return -1;
  return kWindows - 1 - static_cast<int>(age / kWeekUs);
}

struct Mean {
  double sum = 0;
  int n = 0;
  void Add(double v) {
    sum += v;
    ++n;
  }
};

// Mean of each day's worst rating, over the days with a rating.
double MeanOfDailyWorst(const std::map<int64_t, int>& worst_by_day) {
  double sum = 0;
  for (const auto& [day, p] : worst_by_day) sum += p;
  return sum / static_cast<double>(worst_by_day.size());
}

struct WindowData {
  std::map<int64_t, int> worst_by_day;
  std::map<v1::Activity, std::map<int64_t, int>> by_activity;
  Mean severity, minutes;
  std::vector<std::string> ids;
};

v1::Activity Group(v1::Activity a) {
  switch (a) {
    case v1::ACTIVITY_RUNNING:
    case v1::ACTIVITY_WALKING:
      return a;
    case v1::ACTIVITY_EXERCISE:
    case v1::ACTIVITY_HEEL_RAISE_TEST:
      return v1::ACTIVITY_EXERCISE;
    default:
      return v1::ACTIVITY_DAILY_LIVING;
  }
}

void AddPains(const TimelineView& view, WindowData* w) {
  for (const PainPoint& p : view.pains) {
    const int i = WindowOf(p.t, view.as_of_us);
    if (i < 0) continue;
    const int64_t day = p.t / kMicrosPerDay;
    int& worst = w[i].worst_by_day[day];
    worst = std::max(worst, p.pain);
    int& by_act = w[i].by_activity[Group(p.activity)][day];
    by_act = std::max(by_act, p.pain);
    w[i].ids.push_back(p.event_id);
  }
}

void AddStiffness(const TimelineView& view, WindowData* w) {
  for (const StiffnessPoint& p : view.stiffness) {
    const int i = WindowOf(p.t, view.as_of_us);
    if (i < 0 || (!p.severity && !p.minutes)) continue;
    if (p.severity) w[i].severity.Add(*p.severity);
    if (p.minutes) w[i].minutes.Add(*p.minutes);
    w[i].ids.push_back(p.event_id);
  }
}

void FillActivityMeans(const WindowData& d, v1::WeeklySummary* s) {
  for (const auto& [activity, days] : d.by_activity) {
    const double mean = MeanOfDailyWorst(days);
    switch (activity) {
      case v1::ACTIVITY_RUNNING:
        s->set_mean_pain_running(mean);
        break;
      case v1::ACTIVITY_WALKING:
        s->set_mean_pain_walking(mean);
        break;
      case v1::ACTIVITY_EXERCISE:
        s->set_mean_pain_exercise(mean);
        break;
      default:
        s->set_mean_pain_daily_living(mean);
    }
  }
}

void FillLoad(const TimelineView& view, v1::WeeklySummary* summaries) {
  std::set<int64_t> run_days[kWindows];
  for (const LoadSession& s : view.sessions) {
    const int i = WindowOf(s.t, view.as_of_us);
    if (i < 0) continue;
    if (s.is_run) {
      summaries[i].set_run_km(summaries[i].run_km() +
                              (s.run != nullptr ? s.run->distance_km() : 0));
      summaries[i].set_run_sessions(summaries[i].run_sessions() + 1);
      run_days[i].insert(s.t / kMicrosPerDay);
    } else if (s.exercise != nullptr) {
      summaries[i].set_exercise_sessions(summaries[i].exercise_sessions() + 1);
    }
  }
  for (int i = 0; i < kWindows; ++i) {
    summaries[i].set_run_days(static_cast<int>(run_days[i].size()));
  }
}

// Strictly rising (or falling) across every value; needs two or more.
bool Monotone(const std::vector<double>& v, bool rising) {
  if (v.size() < 2) return false;
  for (size_t i = 1; i < v.size(); ++i) {
    if (rising ? !(v[i] > v[i - 1]) : !(v[i] < v[i - 1])) return false;
  }
  return true;
}

std::string Series(const std::vector<double>& v) {
  return absl::StrJoin(v, " -> ", [](std::string* out, double x) {
    absl::StrAppend(out, absl::StrFormat("%.1f", x));
  });
}

// Values of one weekly field over the last `weeks` windows; empty when any
// of those windows lacks it (a trend needs every week of its window).
template <typename Has, typename Get>
std::vector<double> LastWeeks(const v1::Features& f, int weeks, Has has,
                              Get get) {
  std::vector<double> out;
  for (int i = kWindows - weeks; i < kWindows; ++i) {
    if (!has(f.weeks(i))) return {};
    out.push_back(get(f.weeks(i)));
  }
  return out;
}

}  // namespace

void WeeklyTrendPass(const TimelineView& view, v1::Features* f) {
  WindowData data[kWindows];
  AddPains(view, data);
  AddStiffness(view, data);
  v1::WeeklySummary summaries[kWindows];
  for (int i = 0; i < kWindows; ++i) {
    auto& s = summaries[i];
    *s.mutable_start() = FromMicros(view.as_of_us - (kWindows - i) * kWeekUs);
    *s.mutable_end() = FromMicros(view.as_of_us - (kWindows - 1 - i) * kWeekUs);
    if (!data[i].worst_by_day.empty()) {
      s.set_mean_worst_pain(MeanOfDailyWorst(data[i].worst_by_day));
    }
    FillActivityMeans(data[i], &s);
    if (data[i].severity.n > 0) {
      s.set_mean_stiffness_severity(data[i].severity.sum / data[i].severity.n);
    }
    if (data[i].minutes.n > 0) {
      s.set_mean_stiffness_minutes(data[i].minutes.sum / data[i].minutes.n);
    }
    for (const auto& id : data[i].ids) s.add_event_ids(id);
  }
  FillLoad(view, summaries);
  for (auto& s : summaries) *f->add_weeks() = std::move(s);

  const int weeks = TrendWeeks(*view.policy);
  std::vector<double> means;
  for (int i = kWindows - weeks; i < kWindows; ++i) {
    if (!f->weeks(i).has_mean_worst_pain()) continue;
    means.push_back(f->weeks(i).mean_worst_pain());
    f->add_weekly_mean_pain(means.back());
    for (const auto& p : view.pains) {
      if (WindowOf(p.t, view.as_of_us) == i) {
        f->add_pain_trend_event_ids(p.event_id);
      }
    }
  }
  if (means.size() < 2) return;
  const bool full = static_cast<int>(means.size()) == weeks;
  f->set_pain_trend(full && Monotone(means, true)    ? v1::TREND_WORSENING
                    : full && Monotone(means, false) ? v1::TREND_IMPROVING
                                                     : v1::TREND_STABLE);
  f->set_pain_trend_basis(absl::StrCat(
      "weekly mean of daily worst pain over the last ", weeks,
      " weeks, oldest first: ", Series(means),
      full ? "" : " (a week without ratings: direction not judged)"));
}

void StiffnessTrendPass(const TimelineView& view, v1::Features* f) {
  const int weeks = TrendWeeks(*view.policy);
  const auto severity = LastWeeks(
      *f, weeks, [](const auto& w) { return w.has_mean_stiffness_severity(); },
      [](const auto& w) { return w.mean_stiffness_severity(); });
  const auto minutes = LastWeeks(
      *f, weeks, [](const auto& w) { return w.has_mean_stiffness_minutes(); },
      [](const auto& w) { return w.mean_stiffness_minutes(); });
  std::vector<std::string> rising;
  if (Monotone(severity, true)) {
    rising.push_back(absl::StrCat("weekly mean morning-stiffness severity ",
                                  Series(severity), " /10"));
  }
  if (Monotone(minutes, true)) {
    rising.push_back(absl::StrCat("weekly mean morning-stiffness duration ",
                                  Series(minutes), " min"));
  }
  // The patient's own comparisons: "worse than usual" on every report over
  // the span of the trend window also counts as a rising trend.
  const v1::Feature& worse = f->consecutive_worse_mornings();
  // The series must reach into the recency window: old reports are not a
  // trend of today's tendon.
  const bool current =
      worse.has_at() && DaysBetween(ToMicros(worse.at()), view.as_of_us) <=
                            RecencyWindowDays(*view.policy);
  if (worse.present() && worse.value() >= 2 && current) {
    int64_t first = worse.has_at() ? ToMicros(worse.at()) : 0;
    for (const StiffnessPoint& p : view.stiffness) {
      if (p.event_id == worse.event_ids(0)) {
        first = p.t;
        break;
      }
    }
    const int span = DaysBetween(first, ToMicros(worse.at()));
    if (span >= 7 * (weeks - 1)) {
      rising.push_back(absl::StrCat("morning stiffness worse than usual on ",
                                    worse.value(), " reports in a row over ",
                                    span, " days"));
    }
  }
  for (const StiffnessPoint& p : view.stiffness) {
    if (WindowOf(p.t, view.as_of_us) >= kWindows - weeks) {
      f->add_stiffness_trend_event_ids(p.event_id);
    }
  }
  if (!rising.empty()) {
    f->set_stiffness_trend(v1::TREND_WORSENING);
    f->set_stiffness_trend_basis(absl::StrJoin(rising, "; "));
  } else if (Monotone(severity, false) || Monotone(minutes, false)) {
    f->set_stiffness_trend(v1::TREND_IMPROVING);
    f->set_stiffness_trend_basis(
        absl::StrCat("weekly morning stiffness falling: ", Series(severity),
                     " /10; ", Series(minutes), " min"));
  } else if (severity.size() >= 2 || minutes.size() >= 2) {
    f->set_stiffness_trend(v1::TREND_STABLE);
  }
}

}  // namespace achilles::engine::engine_internal
