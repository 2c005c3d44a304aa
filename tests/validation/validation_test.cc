#include "services/validation/validation.h"

#include <gtest/gtest.h>

#include "tests/common/events.h"

namespace achilles::validation {
namespace {

using ::achilles::testing::Day;
using ::achilles::testing::MakeEvent;
using ::achilles::testing::RunEvent;

TEST(ValidationTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(
      IsValidUtf8("Achillessehne \xc3\xa4 \xe2\x82\xac \xf0\x9f\x8f\x83"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));          // Truncated.
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // Overlong.
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // Surrogate.
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(ValidationTest, Ids) {
  EXPECT_TRUE(ValidateId("f", "ok-id_1.2:3").ok());
  EXPECT_FALSE(ValidateId("f", "").ok());
  EXPECT_FALSE(ValidateId("f", std::string(65, 'a')).ok());
  auto st = ValidateId("patient_id", "has space");
  EXPECT_TRUE(absl::IsInvalidArgument(st));
  EXPECT_NE(st.message().find("patient_id"), std::string::npos);
  EXPECT_FALSE(ValidateId("f", std::string("nul\0x", 5)).ok());
}

TEST(ValidationTest, EventMessagesNameTheField) {
  const int64_t now = Day(30);
  auto bad = RunEvent("r1", Day(1), 11);
  auto st = ValidateEvent("events[2]", bad, now);
  EXPECT_TRUE(absl::IsInvalidArgument(st));
  EXPECT_EQ(st.message(),
            "events[2].run_session.response.pain_during: 11 is outside 0-10");

  auto future = RunEvent("r2", Day(31), 1);
  st = ValidateEvent("events[0]", future, now);
  EXPECT_NE(st.message().find("events[0].occurred_at"), std::string::npos);

  auto no_kind = MakeEvent("e", Day(1));
  EXPECT_NE(ValidateEvent("events[0]", no_kind, now).message().find("kind"),
            std::string::npos);

  auto bad_enum = RunEvent("r3", Day(1), 1);
  bad_enum.mutable_run_session()->set_terrain(static_cast<v1::Terrain>(99));
  EXPECT_NE(ValidateEvent("events[0]", bad_enum, now)
                .message()
                .find("events[0].run_session.terrain: 99 is not a known value"),
            std::string::npos);

  auto visa = MakeEvent("q", Day(1));
  visa.mutable_questionnaire()->set_kind(v1::QUESTIONNAIRE_VISA_A);
  visa.mutable_questionnaire()->set_total_score(50);
  for (int i = 0; i < 8; ++i) visa.mutable_questionnaire()->add_item_scores(1);
  EXPECT_NE(ValidateEvent("events[0]", visa, now).message().find("sum"),
            std::string::npos);
}

TEST(ValidationTest, EventBatchChecksSizeEachEventAndRepeatedIds) {
  using ::achilles::testing::Note;
  using Batch = std::vector<v1::Event>;
  const int64_t now = Day(30);
  EXPECT_EQ(ValidateEventBatch(Batch{}, now).message(),
            "events: at least one event is required");
  std::vector<v1::Event> big(kMaxBatch + 1, Note("n", Day(1)));
  EXPECT_EQ(ValidateEventBatch(big, now).message(),
            "events: 501 events exceed the batch limit of 500");
  EXPECT_EQ(ValidateEventBatch(
                Batch{Note("ok", Day(1)), RunEvent("r", Day(1), 11)}, now)
                .message(),
            "events[1].run_session.response.pain_during: 11 is outside 0-10");
  // A retried event inside one batch is harmless; a changed one is not.
  EXPECT_TRUE(ValidateEventBatch(
                  Batch{Note("e", Day(1), "a"), Note("e", Day(1), "a")}, now)
                  .ok());
  auto st = ValidateEventBatch(
      Batch{Note("e", Day(1), "a"), Note("x", Day(2)), Note("e", Day(1), "b")},
      now);
  EXPECT_TRUE(absl::IsInvalidArgument(st));
  EXPECT_EQ(st.message(),
            "events: event_id 'e' appears twice in the batch with different "
            "content");
  // Each event is checked before any id is compared, as before the check
  // moved here from the store.
  EXPECT_NE(
      ValidateEventBatch(Batch{Note("e", Day(1), "a"), Note("e", Day(1), "b"),
                               RunEvent("r", Day(1), 11)},
                         now)
          .message()
          .find("events[2]"),
      std::string::npos);
}

TEST(ValidationTest, PolicyRanges) {
  v1::ClinicPolicy p;
  EXPECT_TRUE(ValidatePolicy(p).ok());
  p.set_silbernagel_max_ok(11);
  EXPECT_NE(ValidatePolicy(p).message().find("policy.silbernagel_max_ok"),
            std::string::npos);
  p.set_silbernagel_max_ok(5);
  p.set_pain_model(static_cast<v1::PainModel>(7));
  EXPECT_FALSE(ValidatePolicy(p).ok());
}

TEST(ValidationTest, TemporalPolicyValuesStayInTheirRanges) {
  v1::ClinicPolicy p;
  p.set_recency_window_days(90);
  p.set_trend_weeks(2);
  EXPECT_TRUE(ValidatePolicy(p).ok());
  p.set_recency_window_days(91);
  EXPECT_NE(ValidatePolicy(p).message().find("policy.recency_window_days"),
            std::string::npos);
  p.set_recency_window_days(14);
  p.set_trend_weeks(5);  // The sources judge trends over 2-4 weeks.
  EXPECT_NE(ValidatePolicy(p).message().find("policy.trend_weeks"),
            std::string::npos);
  p.set_trend_weeks(1);
  EXPECT_FALSE(ValidatePolicy(p).ok());
}

TEST(ValidationTest, TypedObservationsAreChecked) {
  v1::Event run = RunEvent("r1", Day(0), 2);
  run.mutable_run_session()->set_foot_strike(static_cast<v1::FootStrike>(9));
  auto st = ValidateEvent("events[0]", run, Day(1));
  EXPECT_NE(st.message().find("events[0].run_session.foot_strike"),
            std::string::npos)
      << st;
  v1::Event goal = MakeEvent("g1", Day(0));
  goal.mutable_training_goal()->set_race_planned(true);
  goal.mutable_training_goal()->mutable_race_date()->set_seconds(
      int64_t{1767571200} * 1000);  // Milliseconds by mistake.
  st = ValidateEvent("events[0]", goal, Day(1));
  EXPECT_NE(st.message().find("events[0].training_goal.race_date"),
            std::string::npos)
      << st;
  v1::Event finding = MakeEvent("f1", Day(0));
  finding.mutable_finding()->set_knee_to_wall_cm(31);
  EXPECT_FALSE(ValidateEvent("events[0]", finding, Day(1)).ok());
}

TEST(ValidationTest, TimestampsArePlausibleDates) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(-2208988800);  // 1900-01-01, the first day allowed.
  EXPECT_TRUE(ValidateTimestamp("as_of", ts).ok());
  ts.set_seconds(7258118400);  // 2200-01-01, the last.
  EXPECT_TRUE(ValidateTimestamp("as_of", ts).ok());
  ts.set_seconds(7258118401);
  EXPECT_FALSE(ValidateTimestamp("as_of", ts).ok());
  ts.set_seconds(-62135596800);  // Year 1.
  absl::Status st = ValidateTimestamp("as_of", ts);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("as_of"), std::string::npos) << st;
  ts.set_seconds(1767571200);
  for (int nanos : {-1, 1000000000}) {
    ts.set_nanos(nanos);
    EXPECT_FALSE(ValidateTimestamp("as_of", ts).ok()) << nanos;
  }
  ts.set_nanos(999999999);
  EXPECT_TRUE(ValidateTimestamp("as_of", ts).ok());

  const int64_t now = Day(10);
  EXPECT_TRUE(ValidatePastTimestamp("as_of", FromMicros(now), now).ok());
  EXPECT_TRUE(
      ValidatePastTimestamp("as_of", FromMicros(now + kClockSkewMicros), now)
          .ok());
  EXPECT_FALSE(ValidatePastTimestamp(
                   "as_of", FromMicros(now + kClockSkewMicros + 1), now)
                   .ok());
}

TEST(ValidationTest, IdListsAreBoundedAndHaveNoRepeats) {
  google::protobuf::RepeatedPtrField<std::string> ids;
  for (const char* id : {"a", "b", "c"}) *ids.Add() = id;
  EXPECT_TRUE(ValidateIdList("patient_ids", ids, 3).ok());
  EXPECT_FALSE(ValidateIdList("patient_ids", ids, 2).ok());
  *ids.Add() = "b";
  absl::Status st = ValidateIdList("patient_ids", ids, 10);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("patient_ids[3]: 'b' repeats patient_ids[1]"),
            std::string::npos)
      << st;
  *ids.Mutable(3) = "bad id";
  EXPECT_NE(
      ValidateIdList("patient_ids", ids, 10).message().find("patient_ids[3]"),
      std::string::npos);
}

TEST(ValidationTest, RunDurationIsOneTo600Minutes) {
  for (int minutes : {0, 601}) {
    v1::Event run = MakeEvent("r", Day(0));
    run.mutable_run_session()->set_duration_minutes(minutes);
    absl::Status st = ValidateEvent("events[0]", run, Day(1));
    EXPECT_NE(st.message().find("events[0].run_session.duration_minutes"),
              std::string::npos)
        << minutes << ": " << st;
  }
  for (int minutes : {1, 600}) {
    v1::Event run = MakeEvent("r", Day(0));
    run.mutable_run_session()->set_duration_minutes(minutes);
    EXPECT_TRUE(ValidateEvent("events[0]", run, Day(1)).ok()) << minutes;
  }
}

}  // namespace
}  // namespace achilles::validation
