// ABI 1.1 against real plugins, in both isolation modes: a plugin built
// against the frozen 1.0 header loads and answers; the lifecycle (on_init
// with host logging, on_shutdown joining the plugin's thread) runs where
// plugin_abi.h says; an on_init refusal is the plugin's rejection reason;
// ACH_RC_BAD_REQUEST and ACH_RC_PLUGIN_ERROR are reported apart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "plugins/host/plugin_host.h"
#include "services/engine/engine.h"
#include "tests/common/events.h"
#include "tests/common/temp_dir.h"

namespace achilles::plugins {
namespace {

namespace fs = std::filesystem;
using ::achilles::testing::TempDir;

// Sends this process's stderr (and so every worker's it starts) to a file
// while it lives.
class CapturedStderr {
 public:
  explicit CapturedStderr(const std::string& path) : path_(path) {
    std::fflush(stderr);
    saved_ = dup(2);
    std::FILE* f = std::fopen(path.c_str(), "w");
    dup2(fileno(f), 2);
    std::fclose(f);
  }
  ~CapturedStderr() {
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
  }
  std::string Text() const {
    std::fflush(stderr);
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Waits up to 10 s for `text` to appear.
  bool WaitFor(const std::string& text) const {
    for (int i = 0; i < 200; ++i) {
      if (Text().find(text) != std::string::npos) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

 private:
  std::string path_;
  int saved_ = -1;
};

class AbiCompatTest : public ::testing::TestWithParam<Isolation> {
 protected:
  void Install(const std::string& name) {
    fs::copy_file(std::string(TEST_PLUGIN_DIR) + "/" + name + ".so",
                  dir_.Sub(name + ".so"));
  }
  std::unique_ptr<PluginHost> Host() {
    HostOptions options;
    options.plugin_dir = dir_.path();
    options.isolation = GetParam();
    // In process, no trial load: its worker would run the lifecycle too.
    if (GetParam() == Isolation::kProcess)
      options.worker_binary = WORKER_BINARY;
    auto host = PluginHost::Create(options);
    EXPECT_TRUE(host.ok()) << host.status();
    return host.ok() ? *std::move(host) : nullptr;
  }
  static const LoadedPlugin* Find(const PluginSet& set, const std::string& id) {
    for (const auto& p : set.plugins) {
      if (p->record().id == id) return p.get();
    }
    return nullptr;
  }
  static std::string Request() {
    v1::PluginRequest req;
    req.add_timeline()->set_event_id("e1");
    return req.SerializeAsString();
  }
  TempDir dir_;
};

TEST_P(AbiCompatTest, APluginBuiltAgainstTheFrozen10HeaderLoadsAndAnswers) {
  Install("good_abi10");
  auto host = Host();
  const LoadedPlugin* p = Find(*host->Current(), "good_abi10");
  ASSERT_NE(p, nullptr) << host->Current()->records[0].reason;
  EXPECT_EQ(p->record().abi_version, "1.0");
  auto r = p->Call(Request(), absl::Seconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->candidates_size(), 1);
  EXPECT_EQ(r->candidates(0).summary(), "version 1.0.0");
  EXPECT_EQ(r->candidates(0).rationale().observed(0).value(), "1");
  // A 1.0 plugin was never held to its declared kinds ("note"): it takes
  // every event.
  v1::Event run;
  run.mutable_run_session();
  EXPECT_TRUE(p->event_filter().Takes(run));
}

TEST_P(AbiCompatTest, LifecycleRunsInitLogsAndShutsDown) {
  CapturedStderr err(dir_.Sub("stderr.txt"));
  Install("lifecycle");
  {
    auto host = Host();
    const LoadedPlugin* p = Find(*host->Current(), "lifecycle");
    ASSERT_NE(p, nullptr) << host->Current()->records[0].reason;
    auto r = p->Call(Request(), absl::Seconds(5));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->candidates(0).summary(), "initialised: yes");
    EXPECT_EQ(r->candidates(0).rationale().observed(0).value(), "yes");
    ASSERT_TRUE(err.WaitFor("plugin lifecycle: init: ready")) << err.Text();
  }
  // The host and its set are gone: on_shutdown joined the plugin's thread.
  ASSERT_TRUE(err.WaitFor("INFO plugin lifecycle: shutdown: ticker joined"))
      << err.Text();
  const std::string text = err.Text();
  // The newline became a space: no forged line.
  EXPECT_NE(text.find("init: ready ERROR forged line"), std::string::npos);
  EXPECT_EQ(text.find("\nERROR forged line"), std::string::npos);
  // Cut to ACH_MAX_LOG_LEN bytes.
  const size_t at = text.find("WARN plugin lifecycle: long: ");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string line = text.substr(at, text.find('\n', at) - at);
  EXPECT_EQ(line.size(),
            std::string("WARN plugin lifecycle: ").size() + ACH_MAX_LOG_LEN);
}

TEST_P(AbiCompatTest, AnInitRefusalRejectsThePluginWithItsReason) {
  Install("lifecycle_refuses");
  Install("good");
  auto host = Host();
  const auto set = host->Current();
  EXPECT_NE(Find(*set, "good"), nullptr);
  EXPECT_EQ(Find(*set, "lifecycle_refuses"), nullptr);
  bool seen = false;
  for (const auto& rec : set->records) {
    if (rec.file.find("lifecycle_refuses") == std::string::npos) continue;
    seen = true;
    EXPECT_FALSE(rec.loaded);
    // The plugin's Latin-1 byte arrives replaced, in both modes (a worker
    // reports it in a proto3 hello, which would not parse otherwise).
    EXPECT_NE(rec.reason.find("on_init refused: licence table missing (r"
                              "\xEF\xBF\xBD"
                              "f)"),
              std::string::npos)
        << rec.reason;
  }
  EXPECT_TRUE(seen);
}

TEST_P(AbiCompatTest, BadRequestAndPluginErrorAreReportedApart) {
  Install("good");
  Install("erroring");
  auto host = Host();
  const auto set = host->Current();
  ASSERT_EQ(set->plugins.size(), 2u);  // Ordered by id: erroring, good.
  // Bytes that are no PluginRequest: the SDK answers ACH_RC_BAD_REQUEST.
  auto garbage = std::make_shared<const std::string>("\x0f\xff\xff");
  auto request = std::make_shared<const std::string>(Request());
  const auto results =
      set->CallAll({{1, garbage}, {0, request}}, absl::Seconds(5));
  const absl::Status bad = results[0].status();
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  EXPECT_NE(bad.message().find(
                "plugin good rejected the request (ACH_RC_BAD_REQUEST): "),
            std::string::npos)
      << bad;
  const absl::Status failed = results[1].status();
  EXPECT_TRUE(absl::IsInternal(failed)) << failed;
  EXPECT_NE(failed.message().find(
                "plugin erroring failed (ACH_RC_PLUGIN_ERROR): cannot compute"),
            std::string::npos)
      << failed;
}

TEST_P(AbiCompatTest, AFailureShowsInTheEvaluationsPluginEntry) {
  Install("erroring");
  auto host = Host();
  std::vector<v1::Event> timeline = {
      achilles::testing::Note("n", achilles::testing::Day(0))};
  v1::ClinicPolicy policy = engine::DefaultPolicy();
  engine::TimelineInput in{"c", "p", achilles::testing::Day(1), &timeline,
                           &policy};
  const v1::Evaluation ev =
      engine::EvaluateTimeline(in, *host->Current(), absl::Seconds(5));
  ASSERT_EQ(ev.plugins_size(), 1);
  EXPECT_EQ(ev.plugins(0).status(), v1::PLUGIN_RUN_STATUS_FAILED);
  EXPECT_NE(ev.plugins(0).error().find("failed (ACH_RC_PLUGIN_ERROR)"),
            std::string::npos)
      << ev.plugins(0).error();
  // The plugin's Latin-1 byte is replaced, so a client can decode the
  // evaluation (proto3 refuses to parse a string that is not UTF-8).
  EXPECT_NE(ev.plugins(0).error().find("cannot compute caf\xEF\xBF\xBD table"),
            std::string::npos)
      << ev.plugins(0).error();
  v1::Evaluation decoded;
  EXPECT_TRUE(decoded.ParseFromString(ev.SerializeAsString()));
}

INSTANTIATE_TEST_SUITE_P(BothModes, AbiCompatTest,
                         ::testing::Values(Isolation::kInProcess,
                                           Isolation::kProcess),
                         [](const auto& info) {
                           return info.param == Isolation::kInProcess
                                      ? "InProcess"
                                      : "Isolated";
                         });

}  // namespace
}  // namespace achilles::plugins
