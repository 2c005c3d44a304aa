#include "cli/demo_caseload.h"

#include <algorithm>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"

namespace achilles::cli {
namespace {

using v1::Event;

enum Pattern {
  kLadderGood,
  kLadderFlare,
  kHsr,
  kInsertional,
  kReactive,
  kRunner,
  kWorsening,
  kRedFlag,
};

Pattern Pick(std::mt19937_64& rng) {
  // Mostly routine rehab, a few flares, rare red flags.
  const int r = static_cast<int>(rng() % 100);
  if (r < 20) return kLadderGood;
  if (r < 32) return kLadderFlare;
  if (r < 52) return kHsr;
  if (r < 65) return kInsertional;
  if (r < 73) return kReactive;
  if (r < 88) return kRunner;
  if (r < 97) return kWorsening;
  return kRedFlag;
}

}  // namespace

namespace {

// A uniform integer in [lo, hi] from the timeline's generator.
int Jitter(std::mt19937_64& rng, int lo, int hi) {
  return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

// Session i of `sessions` for the run-ladder patterns.
void LadderRun(Pattern pattern, int i, bool last, std::mt19937_64& rng,
               Event* e) {
  auto* r = e->mutable_run_session();
  r->set_ladder_level(std::min(5, 1 + i / 3));
  r->set_duration_minutes(24);
  auto* resp = r->mutable_response();
  const bool flare = pattern == kLadderFlare && last;
  resp->set_pain_during(flare ? 5 : Jitter(rng, 0, 3));
  resp->set_settle_time_hours(flare ? 30 : Jitter(rng, 4, 20));
  resp->set_morning_vs_baseline(flare ? v1::COMPARISON_WORSE
                                      : v1::COMPARISON_SAME);
}

// Session i for the loading-programme patterns.
void ExerciseSession(Pattern pattern, int i, std::mt19937_64& rng, Event* e) {
  auto* x = e->mutable_exercise_session();
  x->set_programme(pattern == kHsr        ? v1::PROGRAMME_HEAVY_SLOW_RESISTANCE
                   : pattern == kReactive ? v1::PROGRAMME_ISOMETRIC
                                          : v1::PROGRAMME_INSERTIONAL_FLAT);
  x->set_programme_week(std::min(12, 1 + i / 3));
  x->set_sets(3);
  x->set_reps(pattern == kReactive ? 1 : 15);
  if (pattern == kReactive) x->set_hold_seconds(30);
  x->mutable_response()->set_pain_before(Jitter(rng, 2, 4));
  x->mutable_response()->set_pain_after(Jitter(rng, 1, 3));
  x->mutable_response()->set_morning_vs_baseline(v1::COMPARISON_SAME);
}

// Session i for the runner patterns.
void FreeRun(Pattern pattern, int i, int sessions, std::mt19937_64& rng,
             Event* e) {
  auto* r = e->mutable_run_session();
  r->set_distance_km(5 + Jitter(rng, 0, 5));
  r->set_duration_minutes(30 + Jitter(rng, 0, 30));
  r->set_cadence_spm(160 + Jitter(rng, 0, 20));
  auto* resp = r->mutable_response();
  // Worsening: pain climbs steadily over the timeline.
  const int pain = pattern == kWorsening
                       ? std::min(7, 1 + (i * 6) / std::max(1, sessions))
                       : Jitter(rng, 0, 3);
  resp->set_pain_during(pain);
  resp->set_eased_with_warmup(true);
  resp->set_settle_time_hours(Jitter(rng, 6, 20));
  resp->set_morning_vs_baseline(v1::COMPARISON_SAME);
}

void Session(Pattern pattern, int i, int sessions, std::mt19937_64& rng,
             Event* e) {
  switch (pattern) {
    case kLadderGood:
    case kLadderFlare:
      return LadderRun(pattern, i, i == sessions - 1, rng, e);
    case kHsr:
    case kInsertional:
    case kReactive:
      return ExerciseSession(pattern, i, rng, e);
    case kRunner:
    case kWorsening:
    case kRedFlag:
      return FreeRun(pattern, i, sessions, rng, e);
  }
}

}  // namespace

std::vector<Event> DemoTimeline(uint64_t seed, int index, int events,
                                int64_t end_us) {
  std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(index));
  const Pattern pattern = Pick(rng);
  std::vector<Event> out;
  const int sessions = std::max(1, events - 2);
  // Sessions every other day ending at end_us.
  const int64_t start =
      end_us - static_cast<int64_t>(sessions) * 2 * kMicrosPerDay;
  auto make = [&](const std::string& id, int64_t at) -> Event& {
    Event& e = out.emplace_back();
    e.set_event_id(id);
    *e.mutable_occurred_at() = FromMicros(at);
    return e;
  };
  Event& finding = make("finding", start - kMicrosPerDay);
  auto* f = finding.mutable_finding();
  f->set_location(pattern == kInsertional ? v1::LOCATION_INSERTIONAL
                                          : v1::LOCATION_MIDPORTION);
  f->set_stage(pattern == kReactive ? v1::STAGE_REACTIVE : v1::STAGE_DISREPAIR);
  f->set_tear_ruled_out(true);
  if (pattern == kReactive) f->set_single_leg_heel_raise_pain(6);
  Event& visa = make("visa", start - kMicrosPerDay + 1000000);
  visa.mutable_questionnaire()->set_kind(v1::QUESTIONNAIRE_VISA_A);
  visa.mutable_questionnaire()->set_total_score(45 +
                                                static_cast<int>(rng() % 30));
  for (int i = 0; i < sessions; ++i) {
    const int64_t at = start + static_cast<int64_t>(i) * 2 * kMicrosPerDay +
                       7 * kMicrosPerHour;
    Session(pattern, i, sessions, rng, &make(absl::StrCat("s", i), at));
  }
  if (pattern == kRedFlag) {
    Event& e = make("flags", end_us);
    e.mutable_symptom_flags()->set_swelling_or_bruising_significant(true);
  }
  std::stable_sort(out.begin(), out.end(), [](const Event& a, const Event& b) {
    return ToMicros(a.occurred_at()) < ToMicros(b.occurred_at());
  });
  return out;
}

}  // namespace achilles::cli
