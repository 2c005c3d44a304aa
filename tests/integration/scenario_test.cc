// Every scenario file in tests/scenarios/ through a real server: real gRPC,
// real RocksDB, the bundled plugins loaded with dlopen. Each scenario runs in
// its own clinic so its policy applies to it alone.
#include "plugins/harness/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_join.h"
#include "tests/integration/test_server.h"

namespace achilles::testing {
namespace {

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(SCENARIO_DIR)) {
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static TestServer* server_;
};
TestServer* ScenarioTest::server_ = nullptr;

TEST_P(ScenarioTest, MeetsExpectations) {
  auto scenario = harness::LoadScenario(GetParam());
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  std::string clinic = std::filesystem::path(GetParam()).stem().string();
  TestServer& s = *server_;
  ASSERT_TRUE(s.AddPatient("patient", clinic).ok());

  v1::SetPolicyRequest set;
  v1::SetPolicyResponse set_resp;
  *set.mutable_policy() = scenario->policy();
  ASSERT_TRUE(s.policies->SetPolicy(s.Ctx(clinic).get(), set, &set_resp).ok());

  auto events = harness::MaterializeEvents(*scenario);
  ASSERT_TRUE(events.ok());
  if (!events->empty()) {
    auto st = s.Append("patient", *events, nullptr, clinic);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  auto as_of = harness::AsOfMicros(*scenario);
  ASSERT_TRUE(as_of.ok());
  v1::Evaluation ev;
  auto st = s.Evaluate("patient", &ev, *as_of, clinic);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(ev.policy_version(), set_resp.policy().version());
  for (const auto& run : ev.plugins()) {
    EXPECT_EQ(run.status(), v1::PLUGIN_RUN_STATUS_OK) << run.error();
  }
  for (const auto& r : ev.recommendations()) {
    EXPECT_FALSE(r.rationale().rule_id().empty()) << r.id();
    EXPECT_FALSE(r.rationale().sources().empty()) << r.id();
    EXPECT_FALSE(r.rationale().observed().empty()) << r.id();
  }
  auto fails = harness::CheckExpectations(scenario->expect(), ev);
  EXPECT_TRUE(fails.empty())
      << scenario->name() << "\n  - " << absl::StrJoin(fails, "\n  - ") << "\n"
      << harness::DescribeEvaluation(ev);
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, ScenarioTest, ::testing::ValuesIn(ScenarioFiles()),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string name = std::filesystem::path(info.param).stem().string();
      std::replace_if(
          name.begin(), name.end(), [](char c) { return !std::isalnum(c); },
          '_');
      return name;
    });

}  // namespace
}  // namespace achilles::testing
