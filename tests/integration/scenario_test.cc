// Every scenario file in tests/scenarios/ through a real server: real gRPC,
// real RocksDB, the bundled plugins loaded with dlopen. Each scenario runs in
// its own clinic so its policy applies to it alone.
#include "plugins/harness/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

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

// A file from the source tree (the scenario dir's grandparent is the root).
std::string ReadFile(const std::string& relative) {
  const auto root =
      std::filesystem::path(SCENARIO_DIR).parent_path().parent_path();
  std::ifstream in(root / relative);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
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

// Every piece of advice names its rule (a heading in the repository's
// clinical reference), what it observed, and either its sources (keys in
// SOURCES.md) or the clinic-policy value it rests on; data requests cite
// only their rule.
void ExpectCheckableRationale(const v1::Recommendation& r) {
  static const std::string rules = ReadFile("docs/clinical/RULES.md");
  static const std::string sources = ReadFile("docs/clinical/SOURCES.md");
  const auto& ra = r.rationale();
  EXPECT_FALSE(ra.rule_id().empty()) << r.id();
  EXPECT_NE(rules.find("\n### " + ra.rule_id() + "\n"), std::string::npos)
      << r.id() << ": rule " << ra.rule_id() << " has no heading in RULES.md";
  for (const auto& key : ra.sources()) {
    EXPECT_NE(sources.find("\n## " + key + "\n"), std::string::npos)
        << r.id() << ": source " << key << " has no entry in SOURCES.md";
  }
  if (ra.rule_id() != "DATA") {
    EXPECT_TRUE(!ra.sources().empty() || !ra.policy().empty()) << r.id();
  }
  EXPECT_FALSE(ra.observed().empty()) << r.id();
}

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
    ExpectCheckableRationale(r);
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
