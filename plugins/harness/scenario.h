// Scenario files: a timeline with relative days plus expectations about the
// advice (achilles.harness.Scenario in
// proto/achilles/harness/scenario.proto, protobuf JSON; docs/sdk/SCENARIOS.md).
// Shared by the scenario test suite (through a real server) and
// achilles-plugin-test (no server).
//
// Pure functions; thread-safe.
#ifndef ACHILLES_PLUGINS_HARNESS_SCENARIO_H_
#define ACHILLES_PLUGINS_HARNESS_SCENARIO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "achilles/harness/scenario.pb.h"
#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/plugin.pb.h"

namespace achilles::harness {

// Reads and parses a scenario file. INVALID_ARGUMENT naming the file when it
// is not a Scenario in protobuf JSON.
absl::StatusOr<Scenario> LoadScenario(const std::string& path);

// Anchor (day 0) in microseconds since the epoch. INVALID_ARGUMENT when it
// is not RFC 3339 or not within 1900-2200.
absl::StatusOr<int64_t> AnchorMicros(const Scenario& s);

// The scenario's events with occurred_at filled in, in file order.
// INVALID_ARGUMENT for a bad anchor, or a day outside -36600..36600 or an
// hour outside 0..23 (naming the event, e.g. "events[2].day: ...").
absl::StatusOr<std::vector<achilles::v1::Event>> MaterializeEvents(
    const Scenario& s);
// The same checks for as_of_day and as_of_hour.
absl::StatusOr<int64_t> AsOfMicros(const Scenario& s);

// The timeline the server would evaluate after the scenario suite appends
// `events` (MaterializeEvents) as one batch: refused as AppendEvents refuses
// it (validation::ValidateEventBatch with `now_us` as the server's clock,
// the server's INVALID_ARGUMENT message unchanged), else the events at or
// before `as_of_us` in the store's order (storage::SortTimeline). No events
// means an empty timeline, as the suite then appends nothing.
absl::StatusOr<std::vector<achilles::v1::Event>> ServerTimeline(
    std::vector<achilles::v1::Event> events, int64_t as_of_us, int64_t now_us);

// Every way `ev` falls short of the expectation, in plain words; empty when
// it meets it.
std::vector<std::string> CheckExpectations(const ScenarioExpectation& expect,
                                           const achilles::v1::Evaluation& ev);

// A compact listing of the ranked advice, for failure output.
std::string DescribeEvaluation(const achilles::v1::Evaluation& ev);

}  // namespace achilles::harness

#endif  // ACHILLES_PLUGINS_HARNESS_SCENARIO_H_
