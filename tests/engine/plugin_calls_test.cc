// Plugin requests written from stored event bytes, filtered by event kind
// and shared between plugins, against the message the engine used to build
// field by field.
#include "services/engine/internal/plugin_calls.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/proto_bytes.h"
#include "common/time_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/engine/features.h"
#include "tests/common/events.h"
#include "tests/common/temp_dir.h"

namespace achilles::engine::engine_internal {
namespace {

namespace fs = std::filesystem;
using ::achilles::testing::Day;
using ::google::protobuf::util::MessageDifferencer;

class PluginCallsTest : public ::testing::Test {
 protected:
  PluginCallsTest() {
    timeline_ = {
        achilles::testing::Finding("f", Day(0), v1::LOCATION_MIDPORTION),
        achilles::testing::Note("n1", Day(1), "first"),
        achilles::testing::RunEvent("r", Day(2), 3),
        achilles::testing::Note("n2", Day(3), "second"),
    };
    policy_ = DefaultPolicy();
    in_ = TimelineInput{"clinic", "patient", Day(4), &timeline_, &policy_};
    features_ = ComputeFeatures(timeline_, in_.as_of_us, policy_);
  }

  // The request as the engine built it before: every event deep-copied
  // into a message, serialized deterministically.
  std::string ByMessage(const TimelineInput& in) const {
    v1::PluginRequest request;
    request.set_clinic_id(in.clinic_id);
    request.set_patient_id(in.patient_id);
    *request.mutable_as_of() = FromMicros(in.as_of_us);
    for (const auto& e : in.timeline) *request.add_timeline() = e;
    *request.mutable_features() = features_;
    *request.mutable_policy() = *in.policy;
    return DeterministicBytes(request);
  }

  std::vector<v1::Event> timeline_;
  v1::ClinicPolicy policy_;
  TimelineInput in_;
  v1::Features features_;
};

TEST_F(PluginCallsTest, StoredBytesGiveTheSerializedRequestByteForByte) {
  std::vector<std::string> stored;
  for (const auto& e : timeline_) stored.push_back(DeterministicBytes(e));
  TimelineInput with_bytes = in_;
  const std::vector<absl::string_view> views(stored.begin(), stored.end());
  with_bytes.event_bytes = &views;
  const auto all = plugins::EventKindFilter::All();
  EXPECT_EQ(PluginRequestWriter(with_bytes, features_).Build(all),
            ByMessage(in_));
  EXPECT_EQ(PluginRequestWriter(in_, features_).Build(all), ByMessage(in_));
  // Proto3 leaves empty strings out; so must the writer.
  TimelineInput anonymous = in_;
  anonymous.clinic_id = "";
  anonymous.patient_id = "";
  EXPECT_EQ(PluginRequestWriter(anonymous, features_).Build(all),
            ByMessage(anonymous));
  std::vector<v1::Event> none;
  TimelineInput empty = in_;
  empty.timeline = &none;
  EXPECT_EQ(PluginRequestWriter(empty, features_).Build(all), ByMessage(empty));
}

TEST_F(PluginCallsTest, OtherEncodingsOfTheStoredEventsParseTheSame) {
  // Each event stored as two concatenated halves (a valid encoding that
  // parses to the same event, in other bytes), as the store could hold
  // them after a schema change.
  std::vector<std::string> stored;
  for (const auto& e : timeline_) {
    v1::Event id_only;
    id_only.set_event_id(e.event_id());
    v1::Event rest = e;
    rest.clear_event_id();
    stored.push_back(DeterministicBytes(rest) + DeterministicBytes(id_only));
  }
  TimelineInput with_bytes = in_;
  const std::vector<absl::string_view> views(stored.begin(), stored.end());
  with_bytes.event_bytes = &views;
  const std::string bytes = PluginRequestWriter(with_bytes, features_)
                                .Build(plugins::EventKindFilter::All());
  EXPECT_NE(bytes, ByMessage(in_));
  v1::PluginRequest got, want;
  ASSERT_TRUE(got.ParseFromString(bytes));
  ASSERT_TRUE(want.ParseFromString(ByMessage(in_)));
  EXPECT_TRUE(MessageDifferencer::Equals(got, want));
}

TEST_F(PluginCallsTest, AFilterKeepsOnlyItsKindsInTimelineOrder) {
  auto notes = plugins::EventKindFilter::FromNames({"note"});
  ASSERT_TRUE(notes.ok());
  v1::PluginRequest got, want;
  ASSERT_TRUE(
      got.ParseFromString(PluginRequestWriter(in_, features_).Build(*notes)));
  ASSERT_TRUE(want.ParseFromString(ByMessage(in_)));
  ASSERT_EQ(got.timeline_size(), 2);
  EXPECT_EQ(got.timeline(0).event_id(), "n1");
  EXPECT_EQ(got.timeline(1).event_id(), "n2");
  // Everything else is the whole request's.
  got.clear_timeline();
  want.clear_timeline();
  EXPECT_TRUE(MessageDifferencer::Equals(got, want));
}

// With the test plugins: what each receives, and which share a request.
class PluginCallsWithPluginsTest : public PluginCallsTest {
 protected:
  void SetUp() override {
    for (const char* p : {"good", "good_all", "good_runs", "good_abi10"}) {
      fs::copy_file(std::string(TEST_PLUGIN_DIR) + "/" + p + ".so",
                    dir_.Sub(std::string(p) + ".so"));
    }
    plugins::HostOptions options;
    options.plugin_dir = dir_.path();
    auto host = plugins::PluginHost::Create(options);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
    set_ = host_->Current();
    ASSERT_EQ(set_->plugins.size(), 4u);
  }

  // Events each plugin saw, by id, from its advice.
  std::map<std::string, std::string> EventsSeen(const v1::Evaluation& ev) {
    std::map<std::string, std::string> seen;
    for (const auto& r : ev.recommendations()) {
      if (r.provenance() != v1::PROVENANCE_PLUGIN) continue;
      for (const auto& o : r.rationale().observed()) {
        if (o.label() == "events") seen[r.plugin_id()] = o.value();
      }
    }
    return seen;
  }

  achilles::testing::TempDir dir_;
  std::unique_ptr<plugins::PluginHost> host_;
  std::shared_ptr<const plugins::PluginSet> set_;
};

TEST_F(PluginCallsWithPluginsTest, EachPluginReceivesTheKindsItDeclared) {
  const v1::Evaluation ev = EvaluateTimeline(in_, *set_, absl::Seconds(5));
  for (const auto& run : ev.plugins()) {
    EXPECT_EQ(run.status(), v1::PLUGIN_RUN_STATUS_OK) << run.error();
  }
  const std::map<std::string, std::string> want = {
      {"good", "2"},        // note
      {"good_abi10", "4"},  // ABI 1.0: every event, whatever it declares
      {"good_all", "4"},    // *
      {"good_runs", "3"},   // note, run_session
  };
  EXPECT_EQ(EventsSeen(ev), want);
}

TEST_F(PluginCallsWithPluginsTest, PluginsTakingTheSameEventsShareARequest) {
  v1::Evaluation ev;
  std::string fingerprint;
  std::vector<v1::PluginRun*> runs;
  // good, good_abi10, good_all, good_runs (by id).
  auto calls = PlanPluginCalls(*set_, in_, features_, &ev, &fingerprint, &runs);
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[1].request, calls[2].request);
  EXPECT_NE(calls[0].request, calls[1].request);
  EXPECT_NE(calls[3].request, calls[1].request);
  // Without a finding, "note,run_session" takes what "*" takes.
  timeline_.erase(timeline_.begin());
  in_.timeline = timeline_;  // A span sees the vector as it was.
  ev.Clear();
  runs.clear();
  calls = PlanPluginCalls(*set_, in_, features_, &ev, &fingerprint, &runs);
  EXPECT_EQ(calls[3].request, calls[2].request);
  EXPECT_EQ(runs.size(), 4u);
}

TEST_F(PluginCallsWithPluginsTest, DisabledPluginsAreRecordedNotCalled) {
  policy_.add_disabled_plugins("good_all");
  v1::Evaluation ev;
  std::string fingerprint;
  std::vector<v1::PluginRun*> runs;
  auto calls = PlanPluginCalls(*set_, in_, features_, &ev, &fingerprint, &runs);
  EXPECT_EQ(calls.size(), 3u);
  ASSERT_EQ(ev.plugins_size(), 4);
  EXPECT_EQ(ev.plugins(2).plugin_id(), "good_all");
  EXPECT_EQ(ev.plugins(2).status(), v1::PLUGIN_RUN_STATUS_DISABLED);
  EXPECT_NE(fingerprint.find("good_all@1.0.0#"), std::string::npos);
  EXPECT_NE(fingerprint.find(":off\n"), std::string::npos);
}

TEST_F(PluginCallsWithPluginsTest, StoredBytesGiveTheSameEvaluation) {
  std::vector<std::string> stored;
  for (const auto& e : timeline_) stored.push_back(e.SerializeAsString());
  TimelineInput with_bytes = in_;
  const std::vector<absl::string_view> views(stored.begin(), stored.end());
  with_bytes.event_bytes = &views;
  EXPECT_EQ(EvaluateTimeline(in_, *set_, absl::Seconds(5)).SerializeAsString(),
            EvaluateTimeline(with_bytes, *set_, absl::Seconds(5))
                .SerializeAsString());
}

}  // namespace
}  // namespace achilles::engine::engine_internal
