// Feature passes over the latest load: the last rated session, limping and
// morning stiffness.
#include "common/time_util.h"
#include "services/engine/features.h"
#include "services/engine/internal/feature_passes.h"

namespace achilles::engine::engine_internal {
namespace {

using ::achilles::v1::Event;

void SetLastLoad(const LoadSession& last, const v1::ClinicPolicy& policy,
                 v1::Features* f) {
  const auto& r = last.response;
  const int64_t t = last.t;
  const auto& ids = last.event_ids;
  f->set_last_load_event_id(last.event->event_id());
  f->set_last_load_kind(last.is_run ? "run" : "exercise");
  if (r.has_pain_during()) {
    SetFeature(f->mutable_last_pain_during(), r.pain_during(), ids, t);
  }
  if (r.has_pain_after()) {
    SetFeature(f->mutable_last_pain_after(), r.pain_after(), ids, t);
  }
  if (r.has_pain_next_morning()) {
    SetFeature(f->mutable_last_pain_next_morning(), r.pain_next_morning(), ids,
               t);
  }
  if (r.has_pain_before()) {
    SetFeature(f->mutable_last_pain_before(), r.pain_before(), ids, t);
  }
  if (r.has_settle_time_hours()) {
    SetFeature(f->mutable_last_settle_hours(), r.settle_time_hours(), ids, t);
  }
  if (r.has_eased_with_warmup()) {
    SetFeature(f->mutable_last_eased_with_warmup(),
               r.eased_with_warmup() ? 1 : 0, ids, t);
  }
  f->set_last_morning_vs_baseline(r.morning_vs_baseline());
  if (auto pain = LoadPain(r)) {
    f->set_pain_zone(ZoneFor(*pain, ResponseOk(r), policy));
  }
}

}  // namespace

void LastLoadPass(const TimelineView& view, v1::Features* f) {
  for (auto it = view.sessions.rbegin(); it != view.sessions.rend(); ++it) {
    if (HasAnyPain(it->response)) {
      SetLastLoad(*it, *view.policy, f);
      return;
    }
  }
}

void LimpingPass(const TimelineView& view, v1::Features* f) {
  // Latest-wins by when each report was made, so a later "no" withdraws an
  // earlier "yes" and a follow-up's answer counts at the follow-up's time.
  // Red flags do not expire with age: only a later report clears them.
  const v1::Event* latest = nullptr;
  bool limping = false;
  for (const v1::Event& e : view.timeline) {
    const v1::LoadResponse* r = nullptr;
    if (e.has_run_session()) {
      r = &e.run_session().response();
    } else if (e.has_exercise_session()) {
      r = &e.exercise_session().response();
    } else if (e.has_pain_report()) {
      r = &e.pain_report().response();
    }
    if (r != nullptr && r->has_limping()) {
      limping = r->limping();
      latest = &e;
    } else if (e.has_symptom_flags() && e.symptom_flags().has_limping()) {
      limping = e.symptom_flags().limping();
      latest = &e;
    }
  }
  if (limping) {
    SetFeature(f->mutable_limping(), 1, {latest->event_id()},
               ToMicros(latest->occurred_at()));
  }
}

void MorningPass(const TimelineView& view, v1::Features* f) {
  for (const Event& e : view.timeline) {
    if (e.has_morning_stiffness()) {
      SetFeature(f->mutable_morning_stiffness_reported(), 1, {e.event_id()},
                 ToMicros(e.occurred_at()));
    }
  }
  v1::Feature* worse = f->mutable_consecutive_worse_mornings();
  for (const StiffnessPoint& p : view.stiffness) {
    if (p.vs_baseline == v1::COMPARISON_WORSE) {
      std::vector<std::string> ids(worse->event_ids().begin(),
                                   worse->event_ids().end());
      ids.push_back(p.event_id);
      SetFeature(worse, worse->value() + 1, std::move(ids), p.t);
    } else if (p.vs_baseline != v1::COMPARISON_UNSPECIFIED) {
      f->clear_consecutive_worse_mornings();
      worse = f->mutable_consecutive_worse_mornings();
    }
  }
  if (!worse->present()) f->clear_consecutive_worse_mornings();
}

}  // namespace achilles::engine::engine_internal
