// achilles-plugin-test's view of a scenario against a real server's: the
// same events must be refused with the same message, or stored and read
// back as the same timeline in the same order.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/time_util.h"
#include "plugins/harness/scenario.h"
#include "services/validation/validation.h"
#include "tests/common/events.h"
#include "tests/integration/test_server.h"

namespace achilles::harness {
namespace {

using ::achilles::testing::Day;
using ::achilles::testing::Note;
using ::achilles::testing::RunEvent;
using ::achilles::testing::TestServer;

class HarnessScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.AddPatient("p").ok()); }

  // Asserts the harness refuses `events` exactly as AppendEvents does and
  // returns the shared message.
  std::string ExpectRefusedLikeTheServer(const std::vector<v1::Event>& events) {
    auto harness = ServerTimeline(events, Day(1000), NowMicros());
    const grpc::Status server = server_.Append("p", events);
    EXPECT_TRUE(absl::IsInvalidArgument(harness.status())) << harness.status();
    EXPECT_EQ(server.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(std::string(harness.status().message()), server.error_message());
    return server.error_message();
  }

  TestServer server_{/*with_plugins=*/false};
};

TEST_F(HarnessScenarioTest, InvalidEventInAScenarioFileIsRefused) {
  auto scenario = LoadScenario(TESTDATA_DIR "/invalid_event_scenario.json");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  auto events = MaterializeEvents(*scenario);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(ExpectRefusedLikeTheServer(*events),
            "events[1].run_session.response.pain_during: 11 is outside 0-10");
}

TEST_F(HarnessScenarioTest, FutureEventIsRefused) {
  const int64_t now = NowMicros();
  const std::string why =
      ExpectRefusedLikeTheServer({Note("ok", now - kMicrosPerDay),
                                  Note("later", now + 2 * kMicrosPerDay)});
  EXPECT_NE(why.find("events[1].occurred_at: is in the future"),
            std::string::npos)
      << why;
}

TEST_F(HarnessScenarioTest, SameIdWithDifferentContentIsRefused) {
  EXPECT_EQ(
      ExpectRefusedLikeTheServer({Note("e1", Day(1), "a"), Note("e2", Day(2)),
                                  Note("e1", Day(1), "b")}),
      "events: event_id 'e1' appears twice in the batch with different "
      "content");
}

TEST_F(HarnessScenarioTest, OversizedBatchIsRefused) {
  std::vector<v1::Event> events;
  for (int i = 0; i <= validation::kMaxBatch; ++i) {
    events.push_back(Note("n" + std::to_string(i), Day(1)));
  }
  EXPECT_NE(ExpectRefusedLikeTheServer(events).find("batch limit"),
            std::string::npos);
}

TEST_F(HarnessScenarioTest, TimelineIsWhatTheServerStoresInItsOrder) {
  // Same-hour events whose ids are not in file order, a retried (identical)
  // event, and one after as_of.
  const std::vector<v1::Event> events = {
      RunEvent("run-b", Day(1), 2), Note("note-c", Day(1)),
      RunEvent("run-a", Day(1), 3), Note("early", Day(0.5)),
      RunEvent("run-b", Day(1), 2), Note("after", Day(3)),
      Note("at-as-of", Day(2))};
  const int64_t as_of = Day(2);
  auto harness = ServerTimeline(events, as_of, NowMicros());
  ASSERT_TRUE(harness.ok()) << harness.status();

  ASSERT_TRUE(server_.Append("p", events).ok());
  v1::ListEventsRequest req;
  v1::ListEventsResponse resp;
  req.set_patient_id("p");
  *req.mutable_to() = FromMicros(as_of + 1);  // `to` is exclusive.
  auto st = server_.patients->ListEvents(server_.Ctx().get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();

  std::vector<std::string> want, got;
  for (const auto& e : resp.events()) want.push_back(e.event_id());
  for (const auto& e : *harness) got.push_back(e.event_id());
  EXPECT_EQ(got, (std::vector<std::string>{"early", "note-c", "run-a", "run-b",
                                           "at-as-of"}));
  ASSERT_EQ(got, want);
  for (int i = 0; i < resp.events_size(); ++i) {
    EXPECT_EQ((*harness)[i].SerializeAsString(),
              resp.events(i).SerializeAsString());
  }
}

TEST_F(HarnessScenarioTest, NoEventsIsAnEmptyTimeline) {
  auto timeline = ServerTimeline({}, Day(1), NowMicros());
  ASSERT_TRUE(timeline.ok()) << timeline.status();
  EXPECT_TRUE(timeline->empty());
}

// Found by fuzz/engine_fuzzer: a day or anchor far out made the time
// arithmetic overflow (undefined behaviour). Now each is refused by name.
TEST(ScenarioTimeTest, OutOfRangeDaysHoursAndAnchorsAreRefused) {
  achilles::harness::Scenario s;
  achilles::harness::ScenarioEvent* e = s.add_events();
  *e->mutable_event() = Note("n1", 0);
  e->set_day(-1610612737);
  auto events = MaterializeEvents(s);
  EXPECT_TRUE(absl::IsInvalidArgument(events.status())) << events.status();
  EXPECT_EQ(events.status().message(),
            "events[0].day: -1610612737 is outside -36600..36600");
  e->set_day(36600);
  e->set_hour(24);
  EXPECT_EQ(MaterializeEvents(s).status().message(),
            "events[0].hour: 24 is outside 0..23");
  e->set_hour(23);
  EXPECT_TRUE(MaterializeEvents(s).ok());

  s.set_as_of_day(2147483647);
  EXPECT_TRUE(absl::IsInvalidArgument(AsOfMicros(s).status()));
  s.set_as_of_day(-36600);
  s.set_as_of_hour(-1);
  EXPECT_TRUE(absl::IsInvalidArgument(AsOfMicros(s).status()));
  s.set_as_of_hour(0);
  EXPECT_TRUE(AsOfMicros(s).ok());

  for (const char* anchor : {"infinite-future", "infinite-past",
                             "9999-12-31T00:00:00Z", "1800-01-01T00:00:00Z"}) {
    s.set_anchor(anchor);
    EXPECT_TRUE(absl::IsInvalidArgument(AnchorMicros(s).status())) << anchor;
    EXPECT_FALSE(MaterializeEvents(s).ok()) << anchor;
    EXPECT_FALSE(AsOfMicros(s).ok()) << anchor;
  }
}

}  // namespace
}  // namespace achilles::harness
