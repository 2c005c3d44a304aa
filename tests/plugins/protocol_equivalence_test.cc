// The isometric protocol file (examples/protocols) is the C++ isometric
// plugin re-expressed: on every scenario file, with the other bundled
// plugins beside it, the evaluation is the same as with isometric.so,
// field for field (rationale, observations and their events, prescriptions,
// data gaps, suppression, ranking), once the file digests that necessarily
// differ are set aside.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/time_util.h"
#include "plugins/harness/scenario.h"
#include "plugins/host/plugin_host.h"
#include "services/engine/engine.h"
#include "tests/common/temp_dir.h"

namespace achilles::plugins {
namespace {

namespace fs = std::filesystem;
using ::achilles::testing::TempDir;

std::unique_ptr<PluginHost> HostWith(const TempDir& dir,
                                     const std::string& isometric) {
  for (const char* p :
       {"midportion_hsr", "insertional_flat", "return_to_run"}) {
    fs::copy_file(std::string(BUNDLED_PLUGIN_DIR) + "/" + p + ".so",
                  dir.Sub(std::string(p) + ".so"));
  }
  fs::copy_file(isometric, dir.Sub(fs::path(isometric).filename().string()));
  HostOptions options;
  options.plugin_dir = dir.path();
  auto host = PluginHost::Create(options);
  EXPECT_TRUE(host.ok()) << host.status();
  return host.ok() ? *std::move(host) : nullptr;
}

// What legitimately differs between the two: the files' digests, and the
// ids and fingerprint that digest them.
v1::Evaluation Comparable(v1::Evaluation ev) {
  ev.clear_evaluation_id();
  ev.clear_input_fingerprint();
  for (auto& run : *ev.mutable_plugins()) run.clear_sha256();
  return ev;
}

TEST(ProtocolEquivalenceTest, IsometricFileMatchesTheCxxPluginOnEveryScenario) {
  TempDir so_dir, yaml_dir;
  auto so = HostWith(so_dir, std::string(BUNDLED_PLUGIN_DIR) + "/isometric.so");
  auto yaml = HostWith(yaml_dir,
                       std::string(EXAMPLES_DIR) + "/isometric.protocol.yaml");
  ASSERT_NE(so, nullptr);
  ASSERT_NE(yaml, nullptr);
  ASSERT_EQ(so->Current()->plugins.size(), 4u);
  ASSERT_EQ(yaml->Current()->plugins.size(), 4u)
      << yaml->Current()->records[1].reason;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(SCENARIO_DIR)) {
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  }
  ASSERT_GT(files.size(), 30u);
  int with_isometric_advice = 0;
  const int64_t now = NowMicros();
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    auto scenario = harness::LoadScenario(file);
    ASSERT_TRUE(scenario.ok()) << scenario.status();
    auto events = harness::MaterializeEvents(*scenario);
    auto as_of = harness::AsOfMicros(*scenario);
    ASSERT_TRUE(events.ok() && as_of.ok());
    auto timeline = harness::ServerTimeline(*std::move(events), *as_of, now);
    if (!timeline.ok()) continue;  // Scenarios of refused input.
    v1::ClinicPolicy policy = scenario->policy();
    engine::NormalizePolicy(&policy);
    engine::TimelineInput input{"clinic", "patient", *as_of, &*timeline,
                                &policy};
    const v1::Evaluation a = Comparable(
        engine::EvaluateTimeline(input, *so->Current(), absl::Seconds(5)));
    const v1::Evaluation b = Comparable(
        engine::EvaluateTimeline(input, *yaml->Current(), absl::Seconds(5)));
    EXPECT_EQ(a.DebugString(), b.DebugString());
    for (const auto& r : a.recommendations()) {
      if (r.plugin_id() == "isometric") ++with_isometric_advice;
    }
  }
  // The comparison means something only if isometric advice was produced.
  EXPECT_GE(with_isometric_advice, 4);
}

}  // namespace
}  // namespace achilles::plugins
