// One reading of a timeline that every feature pass shares: load sessions
// with their follow-up pain reports merged, every pain rating, and every
// morning-stiffness report, each with its time. Internal to the engine.
//
// Built once per evaluation by BuildTimelineView; passes only read it.
// Pointers refer into the caller's timeline, which must outlive the view.
#ifndef ACHILLES_SERVICES_ENGINE_INTERNAL_TIMELINE_VIEW_H_
#define ACHILLES_SERVICES_ENGINE_INTERNAL_TIMELINE_VIEW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"
#include "achilles/v1/policy.pb.h"
#include "storage/timeline_store.h"

namespace achilles::engine::engine_internal {

// A run or exercise session (or a standalone running/exercise pain rating
// standing for one) with its response merged from follow-up pain reports.
struct LoadSession {
  const v1::Event* event = nullptr;
  int64_t t = 0;  // occurred_at, microseconds.
  v1::LoadResponse response;
  std::vector<std::string> event_ids;  // The session plus its follow-ups.
  bool is_run = false;
  // A logged RunSession / ExerciseSession (not a bare pain rating).
  const v1::RunSession* run = nullptr;
  const v1::ExerciseSession* exercise = nullptr;
};

struct PainPoint {
  int64_t t = 0;
  int pain = 0;  // Worst of during / after / next morning.
  v1::Activity activity = v1::ACTIVITY_UNSPECIFIED;
  std::string event_id;
};

struct StiffnessPoint {
  int64_t t = 0;
  v1::Comparison vs_baseline = v1::COMPARISON_UNSPECIFIED;
  std::optional<int> severity;
  std::optional<int> minutes;
  std::string event_id;
};

struct TimelineView {
  storage::EventSpan timeline;
  int64_t as_of_us = 0;
  const v1::ClinicPolicy* policy = nullptr;
  std::vector<LoadSession> sessions;      // Time order.
  std::vector<PainPoint> pains;           // Time order.
  std::vector<StiffnessPoint> stiffness;  // Time order; includes sessions'
                                          // next-morning comparisons.
};

// `timeline` ordered as the store returns it, events after as_of removed.
TimelineView BuildTimelineView(storage::EventSpan timeline, int64_t as_of_us,
                               const v1::ClinicPolicy& policy);

// Sets a Feature: present, value, the events behind it, and when.
void SetFeature(v1::Feature* f, double value, std::vector<std::string> ids,
                int64_t at_us);

// Worst of during/after: the load pain the pain policy is judged on.
std::optional<int> LoadPain(const v1::LoadResponse& r);
// Worst of during/after/next morning.
std::optional<int> WorstPain(const v1::LoadResponse& r);
// Any pain or 24-hour response recorded.
bool HasAnyPain(const v1::LoadResponse& r);
// 24-hour response acceptable: settled within 24 h and the next morning not
// worse (S1, S3, S4). Unknown is not acceptable.
bool ResponseOk(const v1::LoadResponse& r);
// A 24-hour response is recorded and it was bad (> 24 h or worse morning).
bool ResponseBad(const v1::LoadResponse& r);
// Pain recorded, green under the clinic's pain model, and ResponseOk.
bool GoodSession(const v1::LoadResponse& r, const v1::ClinicPolicy& policy);

// Whole days between two instants (floor, as_of - t >= 0 in practice).
int DaysBetween(int64_t from_us, int64_t to_us);

// The clinic's recency window and trend window (policy or default).
int RecencyWindowDays(const v1::ClinicPolicy& policy);
int TrendWeeks(const v1::ClinicPolicy& policy);

}  // namespace achilles::engine::engine_internal

#endif  // ACHILLES_SERVICES_ENGINE_INTERNAL_TIMELINE_VIEW_H_
