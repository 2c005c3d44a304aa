// The plugin worker's sandbox (plugins/host/internal/sandbox.h), seen from
// a real plugin in real worker processes: the probe plugin (BEHAVIOUR 10)
// tries what a hostile plugin would and reports what it was allowed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "plugins/host/plugin_host.h"
#include "tests/common/temp_dir.h"

namespace achilles::plugins {
namespace {

namespace fs = std::filesystem;
using ::achilles::testing::TempDir;

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy_file(std::string(TEST_PLUGIN_DIR) + "/sandbox_probe.so",
                  dir_.Sub("sandbox_probe.so"));
  }

  // A host with one worker for the probe, so CPU time adds up in one
  // process unless the host retires it.
  const LoadedPlugin* Probe(int cpu_seconds = 10) {
    HostOptions options;
    options.plugin_dir = dir_.path();
    options.isolation = Isolation::kProcess;
    options.worker_binary = WORKER_BINARY;
    options.worker_cpu_seconds = cpu_seconds;
    options.workers_per_plugin = 1;
    auto host = PluginHost::Create(options);
    EXPECT_TRUE(host.ok()) << host.status();
    if (!host.ok()) return nullptr;
    host_ = *std::move(host);
    const auto set = host_->Current();
    EXPECT_EQ(set->plugins.size(), 1u) << set->records[0].reason;
    return set->plugins.empty() ? nullptr : set->plugins[0].get();
  }

  // Runs probe action `what` with `arg`; the observations by label.
  absl::StatusOr<std::map<std::string, std::string>> Run(
      const LoadedPlugin* probe, const std::string& what,
      const std::string& arg = "", absl::Duration timeout = absl::Seconds(10)) {
    v1::PluginRequest req;
    req.set_clinic_id(what);
    req.set_patient_id(arg);
    auto resp = probe->Call(req.SerializeAsString(), timeout);
    if (!resp.ok()) return resp.status();
    std::map<std::string, std::string> seen;
    for (const auto& o : resp->candidates(0).rationale().observed()) {
      seen[o.label()] = o.value();
    }
    return seen;
  }

  TempDir dir_;
  std::unique_ptr<PluginHost> host_;
};

TEST_F(SandboxTest, ASpinningPluginIsKilledByItsCpuLimitAndTheNextCallRuns) {
  const LoadedPlugin* probe = Probe(/*cpu_seconds=*/1);
  ASSERT_NE(probe, nullptr);
  const absl::Time start = absl::Now();
  // The deadline is far away: only the CPU limit can end this call early.
  auto spun = Run(probe, "spin", "", absl::Seconds(20));
  EXPECT_TRUE(absl::IsInternal(spun.status())) << spun.status();
  EXPECT_NE(spun.status().message().find("CPU time limit of 1 s"),
            std::string::npos)
      << spun.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  auto next = Run(probe, "whoami");
  EXPECT_TRUE(next.ok()) << next.status();
}

TEST_F(SandboxTest, CpuTimeAddingUpOverCallsDoesNotFailThem) {
  // 6 x 0.3 s of CPU against a 1 s limit: the host must retire the worker
  // before it gets there, not let an innocent call meet the limit.
  const LoadedPlugin* probe = Probe(/*cpu_seconds=*/1);
  ASSERT_NE(probe, nullptr);
  for (int i = 0; i < 6; ++i) {
    auto r = Run(probe, "burn", "300");
    EXPECT_TRUE(r.ok()) << "call " << i << ": " << r.status();
  }
}

TEST_F(SandboxTest, APluginCannotConnectToTheNetwork) {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const LoadedPlugin* probe = Probe();
  ASSERT_NE(probe, nullptr);
  auto seen = Run(probe, "connect", std::to_string(ntohs(addr.sin_port)));
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_NE((*seen)["connect"].find("failed"), std::string::npos)
      << (*seen)["connect"];
  pollfd p{listener, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 200), 0) << "the listener saw a connection";
  close(listener);
}

TEST_F(SandboxTest, APluginCannotWriteAnywhere) {
  const std::string in_tmp =
      "/tmp/achilles-sandbox-test-" + std::to_string(getpid());
  const std::string in_plugin_dir = dir_.Sub("written-by-plugin");
  const LoadedPlugin* probe = Probe();
  ASSERT_NE(probe, nullptr);
  auto seen = Run(probe, "write", in_tmp + ";" + in_plugin_dir);
  ASSERT_TRUE(seen.ok()) << seen.status();
  std::vector<std::string> tried;
  for (const auto& [label, outcome] : *seen) {
    if (label.front() != '/') continue;  // A path it tried to write.
    tried.push_back(label);
    EXPECT_NE(outcome, "written") << label;
    EXPECT_FALSE(fs::exists(label)) << label;
    fs::remove(label);
  }
  // The two given, and one beside its own private copy.
  ASSERT_EQ(tried.size(), 3u);
  EXPECT_NE((*seen)["unlink own copy"], "ok");
  const std::string suffix = ".written";
  for (const std::string& path : tried) {
    if (path.size() > suffix.size() &&
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      EXPECT_TRUE(fs::exists(path.substr(0, path.size() - suffix.size())))
          << "the plugin deleted its own copy";
    }
  }
}

TEST_F(SandboxTest, APluginCannotSignalTheServer) {
  const LoadedPlugin* probe = Probe();
  ASSERT_NE(probe, nullptr);
  auto seen = Run(probe, "signal");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_NE((*seen)["signal parent"], "ok");
  EXPECT_NE((*seen)["signal group"], "ok");
}

// systemd's notify socket would let plugin code report the server ready or
// stopping; whatever else an operator exported may be a secret.
TEST_F(SandboxTest, APluginSeesOnlyTheEnvironmentItNeeds) {
  setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
  setenv("ACHILLES_TEST_SECRET", "s3cret", 1);
  setenv("TZ", "Europe/Amsterdam", 1);
  const LoadedPlugin* probe = Probe();
  unsetenv("NOTIFY_SOCKET");
  unsetenv("ACHILLES_TEST_SECRET");
  unsetenv("TZ");
  ASSERT_NE(probe, nullptr);
  for (const char* name : {"NOTIFY_SOCKET", "ACHILLES_TEST_SECRET"}) {
    auto seen = Run(probe, "env", name);
    ASSERT_TRUE(seen.ok()) << seen.status();
    EXPECT_EQ((*seen)[name], "unset") << name;
  }
  auto tz = Run(probe, "env", "TZ");
  ASSERT_TRUE(tz.ok()) << tz.status();
  EXPECT_EQ((*tz)["TZ"], "Europe/Amsterdam");
}

TEST_F(SandboxTest, WorkersOfARootServerDoNotRunAsRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CI runs as root)";
  const LoadedPlugin* probe = Probe();
  ASSERT_NE(probe, nullptr);
  auto seen = Run(probe, "whoami");
  ASSERT_TRUE(seen.ok()) << seen.status();
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  EXPECT_EQ((*seen)["uid"], std::to_string(nobody->pw_uid));
  EXPECT_EQ((*seen)["euid"], std::to_string(nobody->pw_uid));
}

TEST_F(SandboxTest, AWorkerUserThatCannotBeUsedIsAStartError) {
  for (const char* user : {"no-such-user-achilles", "root"}) {
    HostOptions options;
    options.plugin_dir = dir_.path();
    options.isolation = Isolation::kProcess;
    options.worker_binary = WORKER_BINARY;
    options.worker_user = user;
    auto host = PluginHost::Create(options);
    EXPECT_TRUE(absl::IsFailedPrecondition(host.status()))
        << user << ": " << host.status();
  }
}

}  // namespace
}  // namespace achilles::plugins
