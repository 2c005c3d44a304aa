// Feature passes that judge a state over time: irritability (high, settling,
// settled, and since when, on which evidence) and recency (the age of each
// input against the clinic's recency window).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/time_util.h"
#include "services/engine/features.h"
#include "services/engine/internal/feature_passes.h"

namespace achilles::engine::engine_internal {
namespace {

// S4: irritability usually settles after 1-2 weeks; the lower bound is the
// shortest run of good sessions that counts as settled.
constexpr int kSettledDays = 7;
// One good session is not a trend; two is the fewest that can show one.
constexpr int kSettledSessions = 2;

std::string Nrs(int v) { return absl::StrFormat("%d/10", v); }

const LoadSession* LatestRated(const TimelineView& view) {
  for (auto it = view.sessions.rbegin(); it != view.sessions.rend(); ++it) {
    if (LoadPain(it->response)) return &*it;
  }
  return nullptr;
}

// Evidence of high irritability on the latest rated session: pain at the
// clinic's stop threshold (red zone) that did not ease with warm-up.
std::string PainEvidence(const LoadSession* s, const v1::ClinicPolicy& p) {
  if (s == nullptr) return "";
  const int pain = *LoadPain(s->response);
  const bool eased =
      s->response.has_eased_with_warmup() && s->response.eased_with_warmup();
  if (ZoneFor(pain, true, p) != v1::PAIN_ZONE_RED || eased) return "";
  return absl::StrCat(
      "pain ", Nrs(pain), " with ", s->is_run ? "run" : "exercise", " on ",
      FormatDay(s->t), " at the clinic's stop threshold, ",
      s->response.has_eased_with_warmup() ? "not easing with warm-up"
                                          : "easing with warm-up not recorded");
}

// Evidence from the single-leg heel-raise test: pain in the red zone blocks
// isotonic work (D3 entry).
std::string RaiseEvidence(const v1::Features& f, const v1::ClinicPolicy& p) {
  const v1::Feature& raise = f.single_leg_heel_raise_pain();
  if (!raise.present()) return "";
  const int pain = static_cast<int>(raise.value());
  if (ZoneFor(pain, true, p) != v1::PAIN_ZONE_RED) return "";
  return absl::StrCat("single-leg heel raise pain ", Nrs(pain), " on ",
                      FormatDay(ToMicros(raise.at())));
}

// The trailing run of good sessions, oldest first. A recorded stage is the
// clinician's judgement at that time, so only sessions from then on can
// show that irritability has settled since.
std::vector<const LoadSession*> TrailingGood(const TimelineView& view,
                                             const v1::Features& f) {
  const int64_t stage_at =
      f.stage_recorded().present() ? ToMicros(f.stage_recorded().at()) : 0;
  std::vector<const LoadSession*> good;
  for (auto it = view.sessions.rbegin(); it != view.sessions.rend(); ++it) {
    if (it->t < stage_at) break;
    if (!LoadPain(it->response)) continue;
    if (!GoodSession(it->response, *view.policy)) break;
    good.insert(good.begin(), &*it);
  }
  return good;
}

bool WorseMorningSince(const TimelineView& view, int64_t since) {
  for (const StiffnessPoint& p : view.stiffness) {
    if (p.t >= since && p.vs_baseline == v1::COMPARISON_WORSE) return true;
  }
  return false;
}

void SetState(v1::Irritability state, std::string evidence,
              std::vector<std::string> ids, int64_t since, v1::Features* f) {
  f->set_irritability(state);
  f->set_irritability_evidence(std::move(evidence));
  SetFeature(f->mutable_irritability_since(), state, std::move(ids), since);
}

bool TrySettled(const TimelineView& view, int64_t window_start,
                v1::Features* f) {
  const auto good = TrailingGood(view, *f);
  if (static_cast<int>(good.size()) < kSettledSessions) return false;
  const int64_t first = good.front()->t, last = good.back()->t;
  const int span = DaysBetween(first, last);
  if (last < window_start || span < kSettledDays) return false;
  if (WorseMorningSince(view, first)) return false;
  const auto& raise = f->single_leg_heel_raise_pain();
  if (raise.present() && ToMicros(raise.at()) >= first &&
      !RaiseEvidence(*f, *view.policy).empty()) {
    return false;
  }
  std::vector<std::string> ids;
  for (const auto* s : good) ids.push_back(s->event->event_id());
  SetState(v1::IRRITABILITY_SETTLED,
           absl::StrCat(good.size(),
                        " sessions in a row with pain in the green zone and "
                        "a good 24-hour response, from ",
                        FormatDay(first), " to ", FormatDay(last), " (", span,
                        " days), no morning worse than usual"),
           std::move(ids), first, f);
  return true;
}

void LastFindingAge(const TimelineView& view, v1::Recency* r) {
  for (auto it = view.timeline.rbegin(); it != view.timeline.rend(); ++it) {
    if (!it->has_finding()) continue;
    const int64_t t = ToMicros(it->occurred_at());
    SetFeature(r->mutable_last_finding_age_days(),
               DaysBetween(t, view.as_of_us), {it->event_id()}, t);
    return;
  }
}

}  // namespace

void IrritabilityPass(const TimelineView& view, v1::Features* f) {
  const int window = RecencyWindowDays(*view.policy);
  const int64_t window_start = view.as_of_us - window * kMicrosPerDay;
  if (TrySettled(view, window_start, f)) return;
  const LoadSession* latest = LatestRated(view);
  const bool latest_current = latest != nullptr && latest->t >= window_start;
  std::string pain = latest_current ? PainEvidence(latest, *view.policy) : "";
  std::string raise = RaiseEvidence(*f, *view.policy);
  const auto& raise_f = f->single_leg_heel_raise_pain();
  if (!raise.empty() && ToMicros(raise_f.at()) < window_start) raise.clear();
  if (!pain.empty()) {
    SetState(v1::IRRITABILITY_HIGH, pain, latest->event_ids, latest->t, f);
  } else if (!raise.empty()) {
    SetState(v1::IRRITABILITY_HIGH, raise,
             {raise_f.event_ids().begin(), raise_f.event_ids().end()},
             ToMicros(raise_f.at()), f);
  } else if (latest_current) {
    SetState(v1::IRRITABILITY_SETTLING,
             absl::StrCat("latest rated session on ", FormatDay(latest->t),
                          "; not yet ", kSettledSessions,
                          " good sessions over ", kSettledDays, " days"),
             latest->event_ids, latest->t, f);
  } else {
    f->set_irritability_evidence(absl::StrCat(
        "no rated session in the last ", window, " days (recency window)"));
  }
}

void RecencyPass(const TimelineView& view, v1::Features* f) {
  auto* r = f->mutable_recency();
  const int window = RecencyWindowDays(*view.policy);
  r->set_window_days(window);
  std::vector<std::string> stale;
  auto age = [&](v1::Feature* out, int64_t t, const std::string& id,
                 const char* what) {
    const int days = DaysBetween(t, view.as_of_us);
    SetFeature(out, days, {id}, t);
    if (days <= window) return false;
    stale.push_back(
        absl::StrCat(what, " ", days, " days ago (", FormatDay(t), ")"));
    return true;
  };
  const LoadSession* last_run = nullptr;
  const LoadSession* last_ex = nullptr;
  for (const LoadSession& s : view.sessions) {
    if (s.is_run) last_run = &s;
    if (s.exercise != nullptr) last_ex = &s;
  }
  bool all_load_stale = last_run != nullptr || last_ex != nullptr;
  if (last_run != nullptr) {
    r->set_runs_stale(age(r->mutable_last_run_age_days(), last_run->t,
                          last_run->event->event_id(), "latest run"));
    all_load_stale = all_load_stale && r->runs_stale();
  }
  if (last_ex != nullptr) {
    r->set_exercise_stale(age(r->mutable_last_exercise_age_days(), last_ex->t,
                              last_ex->event->event_id(),
                              "latest exercise session"));
    all_load_stale = all_load_stale && r->exercise_stale();
  }
  if (!view.pains.empty()) {
    const PainPoint& p = view.pains.back();
    r->set_pain_stale(age(r->mutable_last_pain_age_days(), p.t, p.event_id,
                          "latest pain rating"));
  }
  // The evaluation as a whole is out of date only when nothing the patient
  // does now is on record: an old run does not make a current HSR patient's
  // advice stale (the per-kind flags still hold that kind's progression).
  const bool no_load = last_run == nullptr && last_ex == nullptr;
  if (all_load_stale || (no_load && r->pain_stale())) {
    for (auto& words : stale) r->add_stale_inputs(std::move(words));
  }
  LastFindingAge(view, r);
}

}  // namespace achilles::engine::engine_internal
