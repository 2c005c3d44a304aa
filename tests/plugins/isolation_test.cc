// Process isolation: plugins run in achilles-plugin-worker processes, so a
// crash, a leak or a hang costs a worker, never the host.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "plugins/host/plugin_host.h"
#include "services/engine/engine.h"
#include "tests/common/events.h"
#include "tests/common/temp_dir.h"

namespace achilles::plugins {
namespace {

namespace fs = std::filesystem;
using ::achilles::testing::TempDir;

class IsolationTest : public ::testing::Test {
 protected:
  void Install(const std::string& dir, const std::string& name) {
    fs::copy_file(dir + "/" + name + ".so", dir_.Sub(name + ".so"));
  }
  std::unique_ptr<PluginHost> Host(Isolation isolation,
                                   size_t memory = size_t{1} << 30) {
    HostOptions options;
    options.plugin_dir = dir_.path();
    options.isolation = isolation;
    options.worker_binary = WORKER_BINARY;
    options.worker_memory_limit_bytes = memory;
    auto host = PluginHost::Create(options);
    EXPECT_TRUE(host.ok()) << host.status();
    return *std::move(host);
  }
  const LoadedPlugin* Find(const PluginSet& set, const std::string& id) {
    for (const auto& p : set.plugins) {
      if (p->record().id == id) return p.get();
    }
    return nullptr;
  }
  std::string Request() {
    v1::PluginRequest req;
    return req.SerializeAsString();
  }
  TempDir dir_;
};

TEST_F(IsolationTest, BundledPluginsGiveTheSameEvaluationInBothModes) {
  for (const char* p :
       {"midportion_hsr", "insertional_flat", "isometric", "return_to_run"}) {
    Install(BUNDLED_PLUGIN_DIR, p);
  }
  auto in_process = Host(Isolation::kInProcess);
  auto isolated = Host(Isolation::kProcess);
  ASSERT_EQ(isolated->Current()->plugins.size(), 4u);
  EXPECT_TRUE(isolated->Current()->plugins[0]->isolated());
  std::vector<v1::Event> timeline = {
      achilles::testing::Finding("f", achilles::testing::Day(0),
                                 v1::LOCATION_INSERTIONAL),
      achilles::testing::RunEvent("r", achilles::testing::Day(1), 2)};
  v1::ClinicPolicy policy = engine::DefaultPolicy();
  engine::TimelineInput in{"c", "p", achilles::testing::Day(2), &timeline,
                           &policy};
  auto a =
      engine::EvaluateTimeline(in, *in_process->Current(), absl::Seconds(5));
  auto b = engine::EvaluateTimeline(in, *isolated->Current(), absl::Seconds(5));
  for (const auto& run : b.plugins()) {
    EXPECT_EQ(run.status(), v1::PLUGIN_RUN_STATUS_OK) << run.error();
  }
  EXPECT_GT(b.recommendations_size(), 0);
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
}

TEST_F(IsolationTest, WorkersOutliveTheThreadThatStartedThem) {
  // Workers are started from whatever thread needs one (gRPC handlers,
  // caseload workers); they must not die when that thread ends.
  Install(TEST_PLUGIN_DIR, "good");
  std::unique_ptr<PluginHost> host;
  std::thread([&] { host = Host(Isolation::kProcess); }).join();
  const LoadedPlugin* good = Find(*host->Current(), "good");
  ASSERT_NE(good, nullptr);
  std::thread([&] {
    // Two calls at once make the pool start a second worker here.
    std::thread other(
        [&] { good->Call(Request(), absl::Seconds(5)).IgnoreError(); });
    good->Call(Request(), absl::Seconds(5)).IgnoreError();
    other.join();
  }).join();
  absl::SleepFor(absl::Milliseconds(100));
  for (int i = 0; i < 4; ++i) {
    auto r = good->Call(Request(), absl::Seconds(5));
    EXPECT_TRUE(r.ok()) << r.status();
  }
}

TEST_F(IsolationTest, ACrashKillsOnlyItsWorker) {
  Install(TEST_PLUGIN_DIR, "crashing");
  Install(TEST_PLUGIN_DIR, "good");
  auto host = Host(Isolation::kProcess);
  auto set = host->Current();
  const LoadedPlugin* crashing = Find(*set, "crashing");
  ASSERT_NE(crashing, nullptr);
  for (int i = 0; i < 3; ++i) {  // A fresh worker each time.
    auto r = crashing->Call(Request(), absl::Seconds(5));
    EXPECT_TRUE(absl::IsInternal(r.status()));
    EXPECT_NE(r.status().message().find("crashed"), std::string::npos)
        << r.status();
    EXPECT_NE(r.status().message().find("signal 11"), std::string::npos)
        << r.status();
  }
  auto good = Find(*set, "good")->Call(Request(), absl::Seconds(5));
  EXPECT_TRUE(good.ok()) << good.status();
}

TEST_F(IsolationTest, AHangIsKilledAtTheDeadlineAndTheNextCallRuns) {
  Install(TEST_PLUGIN_DIR, "hanging");
  auto host = Host(Isolation::kProcess);
  const LoadedPlugin* hanging = Find(*host->Current(), "hanging");
  ASSERT_NE(hanging, nullptr);
  for (int i = 0; i < 2; ++i) {
    const absl::Time start = absl::Now();
    auto r = hanging->Call(Request(), absl::Milliseconds(300));
    EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
    EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  }
}

TEST_F(IsolationTest, ALeakHitsTheWorkerLimitNotTheServer) {
  Install(TEST_PLUGIN_DIR, "leaking");
  auto host = Host(Isolation::kProcess, size_t{256} << 20);
  const LoadedPlugin* leaking = Find(*host->Current(), "leaking");
  ASSERT_NE(leaking, nullptr);
  int failures = 0;
  for (int i = 0; i < 8; ++i) {
    auto r = leaking->Call(Request(), absl::Seconds(5));
    if (!r.ok()) ++failures;
  }
  // 64 MiB a call against a 256 MiB address space: it runs out within a
  // few calls, is restarted, and runs again.
  EXPECT_GT(failures, 0);
  EXPECT_LT(failures, 8);
}

TEST_F(IsolationTest, ALieAboutTheResponseSizeIsNamedNotACrash) {
  Install(TEST_PLUGIN_DIR, "raw_lying_size");
  auto host = Host(Isolation::kProcess);
  const LoadedPlugin* lying = Find(*host->Current(), "raw_plugin");
  ASSERT_NE(lying, nullptr);
  auto r = lying->Call(Request(), absl::Seconds(5));
  EXPECT_TRUE(absl::IsInternal(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("are readable"), std::string::npos)
      << r.status();
}

TEST_F(IsolationTest, RefusalsAndLoadCrashesAreNamed) {
  Install(TEST_PLUGIN_DIR, "raw_abi_major");
  Install(TEST_PLUGIN_DIR, "raw_no_entry");
  Install(TEST_PLUGIN_DIR, "crash_on_load");
  auto host = Host(Isolation::kProcess);
  auto set = host->Current();
  EXPECT_TRUE(set->plugins.empty());
  ASSERT_EQ(set->records.size(), 3u);
  std::map<std::string, std::string> why;
  for (const auto& r : set->records) {
    why[fs::path(r.file).filename().string()] = r.reason;
  }
  EXPECT_NE(why["crash_on_load.so"].find("crashed or hung while loading"),
            std::string::npos)
      << why["crash_on_load.so"];
  EXPECT_NE(why["raw_abi_major.so"].find("major"), std::string::npos);
  EXPECT_NE(why["raw_no_entry.so"].find("entry symbol"), std::string::npos);
}

std::string Observed(const v1::PluginResponse& response,
                     const std::string& label) {
  for (const auto& c : response.candidates()) {
    for (const auto& o : c.rationale().observed()) {
      if (o.label() == label) return o.value();
    }
  }
  return "";
}

TEST_F(IsolationTest, CallAllRunsTheWorkersAtOnce) {
  Install(TEST_PLUGIN_DIR, "sleepy_a");
  Install(TEST_PLUGIN_DIR, "sleepy_b");
  auto host = Host(Isolation::kProcess);
  const auto set = host->Current();
  ASSERT_EQ(set->plugins.size(), 2u);
  v1::PluginRequest req;
  req.set_patient_id("300");  // Milliseconds each sleeps.
  auto request = std::make_shared<const std::string>(req.SerializeAsString());
  auto results = set->CallAll({{0, request}, {1, request}}, absl::Seconds(5));
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  // CLOCK_MONOTONIC is one clock for both workers: each started before the
  // other ended, so neither waited for the other.
  EXPECT_LT(std::stoll(Observed(*results[0], "start_ns")),
            std::stoll(Observed(*results[1], "end_ns")));
  EXPECT_LT(std::stoll(Observed(*results[1], "start_ns")),
            std::stoll(Observed(*results[0], "end_ns")));
}

TEST_F(IsolationTest, ABatchKeepsEachFailureToItsOwnCall) {
  Install(TEST_PLUGIN_DIR, "crashing");
  Install(TEST_PLUGIN_DIR, "good");
  Install(TEST_PLUGIN_DIR, "hanging");
  Install(TEST_PLUGIN_DIR, "raw_lying_size");
  auto host = Host(Isolation::kProcess);
  const auto set = host->Current();
  ASSERT_EQ(set->plugins.size(), 4u);  // crashing, good, hanging, raw_plugin
  auto request = std::make_shared<const std::string>(Request());
  const absl::Time start = absl::Now();
  auto r =
      set->CallAll({{0, request}, {1, request}, {2, request}, {3, request}},
                   absl::Milliseconds(500));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_NE(r[0].status().message().find("signal 11"), std::string::npos)
      << r[0].status();
  EXPECT_TRUE(r[1].ok()) << r[1].status();
  EXPECT_TRUE(absl::IsDeadlineExceeded(r[2].status())) << r[2].status();
  EXPECT_NE(r[3].status().message().find("are readable"), std::string::npos)
      << r[3].status();
  // Every worker that failed was replaced: the next batch runs again.
  r = set->CallAll({{1, request}, {0, request}}, absl::Seconds(5));
  EXPECT_TRUE(r[0].ok()) << r[0].status();
  EXPECT_NE(r[1].status().message().find("crashed"), std::string::npos)
      << r[1].status();
}

TEST_F(IsolationTest, ReservedIdsAreRefusedByTheWorkerToo) {
  Install(TEST_PLUGIN_DIR, "reserved_safety");
  Install(TEST_PLUGIN_DIR, "good");
  auto host = Host(Isolation::kProcess);
  auto set = host->Current();
  ASSERT_EQ(set->plugins.size(), 1u);
  EXPECT_EQ(set->plugins[0]->record().id, "good");
  EXPECT_TRUE(set->plugins[0]->isolated());
  ASSERT_EQ(set->records.size(), 2u);
  for (const auto& r : set->records) {
    if (fs::path(r.file).filename() != "reserved_safety.so") continue;
    EXPECT_FALSE(r.loaded);
    EXPECT_NE(r.reason.find("manifest: id 'safety' is reserved for the engine"),
              std::string::npos)
        << r.reason;
  }
}

}  // namespace
}  // namespace achilles::plugins
