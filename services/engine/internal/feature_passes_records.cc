// Feature passes over clinical records: findings, questionnaires, footwear,
// treatment requests, goals, and the plain history counts.
#include "common/time_util.h"
#include "services/engine/internal/feature_passes.h"

namespace achilles::engine::engine_internal {
namespace {

using ::achilles::v1::Event;

// Copies one finding's set fields; true when it set any.
bool ApplyFinding(const Event& e, int64_t t, v1::Features* f) {
  const auto& fd = e.finding();
  const std::string& id = e.event_id();
  bool used = false;
  if (fd.location() != v1::LOCATION_UNSPECIFIED) {
    f->set_location(fd.location());
    used = true;
  }
  if (fd.stage() != v1::STAGE_UNSPECIFIED) {
    f->set_stage(fd.stage());
    SetFeature(f->mutable_stage_recorded(), fd.stage(), {id}, t);
    used = true;
  }
  auto flag = [&](bool has, bool value, v1::Feature* out) {
    if (!has) return;
    SetFeature(out, value ? 1 : 0, {id}, t);
    used = true;
  };
  flag(fd.has_nodule(), fd.nodule(), f->mutable_nodule());
  flag(fd.has_tear_ruled_out(), fd.tear_ruled_out(),
       f->mutable_tear_ruled_out());
  flag(fd.has_can_single_leg_heel_raise(), fd.can_single_leg_heel_raise(),
       f->mutable_can_single_leg_heel_raise());
  flag(fd.has_partial_tear(), fd.partial_tear(), f->mutable_partial_tear());
  if (fd.has_single_leg_heel_raise_pain()) {
    SetFeature(f->mutable_single_leg_heel_raise_pain(),
               fd.single_leg_heel_raise_pain(), {id}, t);
    used = true;
  }
  if (fd.has_knee_to_wall_cm()) {
    SetFeature(f->mutable_knee_to_wall_cm(), fd.knee_to_wall_cm(), {id}, t);
    used = true;
  }
  return used;
}

void ApplyTreatment(const Event& e, int64_t t, v1::Features* f) {
  v1::Feature* out = nullptr;
  switch (e.treatment_request().treatment()) {
    case v1::TREATMENT_CORTISONE_INJECTION:
      out = f->mutable_cortisone_requested();
      break;
    case v1::TREATMENT_PRP_INJECTION:
      out = f->mutable_prp_requested();
      break;
    case v1::TREATMENT_SHOCKWAVE:
      out = f->mutable_shockwave_requested();
      break;
    case v1::TREATMENT_ICE:
      out = f->mutable_ice_requested();
      break;
    default:
      return;
  }
  SetFeature(out, e.treatment_request().planned() ? 2 : 1, {e.event_id()}, t);
}

void ApplyGoal(const Event& e, int64_t t, v1::Features* f) {
  const auto& g = e.training_goal();
  if (g.target_weekly_distance_km() > 0) {
    SetFeature(f->mutable_target_weekly_km(), g.target_weekly_distance_km(),
               {e.event_id()}, t);
    f->set_is_runner(true);
  }
  SetFeature(f->mutable_race_planned(), g.race_planned() ? 1 : 0,
             {e.event_id()}, t);
  if (g.race_planned()) f->set_is_runner(true);
  if (g.has_race_date()) {
    SetFeature(f->mutable_race_date(), 1, {e.event_id()},
               ToMicros(g.race_date()));
  } else {
    f->clear_race_date();
  }
}

void ApplyFootwear(const Event& e, int64_t t, v1::Features* f) {
  const auto& fw = e.footwear();
  if (fw.has_heel_drop_mm()) {
    SetFeature(f->mutable_shoe_drop_mm(), fw.heel_drop_mm(), {e.event_id()}, t);
  }
  if (fw.has_heel_lift_mm()) {
    SetFeature(f->mutable_heel_lift_mm(), fw.heel_lift_mm(), {e.event_id()}, t);
  }
  SetFeature(f->mutable_barefoot_or_minimalist(),
             fw.barefoot_or_minimalist() ? 1 : 0, {e.event_id()}, t);
}

}  // namespace

void FindingsPass(const TimelineView& view, v1::Features* f) {
  int64_t last_finding_us = 0;
  for (const Event& e : view.timeline) {
    if (!e.has_finding()) continue;
    const int64_t t = ToMicros(e.occurred_at());
    if (!ApplyFinding(e, t, f)) continue;
    // Findings recorded at the same time form one examination.
    if (t != last_finding_us) f->clear_finding_event_ids();
    last_finding_us = t;
    f->add_finding_event_ids(e.event_id());
  }
}

void RecordsPass(const TimelineView& view, v1::Features* f) {
  for (const Event& e : view.timeline) {
    const int64_t t = ToMicros(e.occurred_at());
    if (e.has_questionnaire() &&
        e.questionnaire().kind() == v1::QUESTIONNAIRE_VISA_A) {
      const int score = e.questionnaire().total_score();
      if (!f->visa_a_first().present()) {
        SetFeature(f->mutable_visa_a_first(), score, {e.event_id()}, t);
      }
      SetFeature(f->mutable_visa_a_latest(), score, {e.event_id()}, t);
    } else if (e.has_footwear()) {
      ApplyFootwear(e, t, f);
    } else if (e.has_treatment_request()) {
      ApplyTreatment(e, t, f);
    } else if (e.has_training_goal()) {
      ApplyGoal(e, t, f);
    }
  }
}

void HistoryPass(const TimelineView& view, v1::Features* f) {
  const auto& timeline = view.timeline;
  f->set_event_count(static_cast<int>(timeline.size()));
  if (timeline.empty()) return;
  f->set_days_of_history(
      DaysBetween(ToMicros(timeline.front().occurred_at()), view.as_of_us));
  if (!view.pains.empty()) {
    f->set_days_of_symptom_history(
        DaysBetween(view.pains.front().t, view.as_of_us));
  }
}

void LatestPainPass(const TimelineView& view, v1::Features* f) {
  for (const Event& e : view.timeline) {
    if (!e.has_pain_report() || !e.pain_report().related_event_id().empty()) {
      continue;
    }
    const auto p = WorstPain(e.pain_report().response());
    if (!p) continue;
    v1::Feature* target = nullptr;
    switch (e.pain_report().activity()) {
      case v1::ACTIVITY_RUNNING:
        target = f->mutable_latest_pain_running();
        break;
      case v1::ACTIVITY_WALKING:
        target = f->mutable_latest_pain_walking();
        break;
      case v1::ACTIVITY_EXERCISE:
      case v1::ACTIVITY_HEEL_RAISE_TEST:
        target = f->mutable_latest_pain_exercise();
        break;
      default:
        target = f->mutable_latest_pain_daily_living();
    }
    SetFeature(target, *p, {e.event_id()}, ToMicros(e.occurred_at()));
  }
}

}  // namespace achilles::engine::engine_internal
