// Protocol files in PluginHost, in both isolation modes: the allowlist,
// reload of a changed file, the digest, and byte-identical answers from a
// worker process and from the server's own call threads.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "common/digest.h"
#include "plugins/host/plugin_host.h"
#include "tests/common/temp_dir.h"

namespace achilles::plugins {
namespace {

namespace fs = std::filesystem;
using ::achilles::testing::TempDir;

const std::string kVisa =
    std::string(EXAMPLES_DIR) + "/visa_a_review.protocol.yaml";

class ProtocolHostTest : public ::testing::TestWithParam<Isolation> {
 protected:
  std::unique_ptr<PluginHost> Host(std::vector<std::string> allowed = {}) {
    HostOptions options;
    options.plugin_dir = dir_.path();
    options.isolation = GetParam();
    options.worker_binary = WORKER_BINARY;
    options.allowed_sha256 = std::move(allowed);
    auto host = PluginHost::Create(options);
    EXPECT_TRUE(host.ok()) << host.status();
    return host.ok() ? *std::move(host) : nullptr;
  }
  std::string Installed() const {
    return dir_.Sub("visa_a_review.protocol.yaml");
  }
  void Install(const std::string& text) {
    std::ofstream(Installed(), std::ios::trunc) << text;
  }
  static std::string Example() {
    std::ifstream in(kVisa);
    return std::string(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }
  static std::string Request() {
    v1::PluginRequest r;
    const int64_t t0 = 1767571200;
    r.mutable_as_of()->set_seconds(t0 + 49 * 86400);
    auto* f = r.mutable_features();
    f->mutable_visa_a_first()->set_present(true);
    f->mutable_visa_a_first()->set_value(50);
    f->mutable_visa_a_first()->mutable_at()->set_seconds(t0);
    f->mutable_visa_a_latest()->set_present(true);
    f->mutable_visa_a_latest()->set_value(55);
    f->mutable_visa_a_latest()->mutable_at()->set_seconds(t0 + 49 * 86400);
    return r.SerializeAsString();
  }
  TempDir dir_;
};

TEST_P(ProtocolHostTest, LoadsWithItsDigestAndAnswers) {
  Install(Example());
  auto host = Host();
  ASSERT_NE(host, nullptr);
  auto set = host->Current();
  ASSERT_EQ(set->plugins.size(), 1u) << set->records[0].reason;
  const PluginRecord& rec = set->plugins[0]->record();
  EXPECT_EQ(rec.id, "clinic_visa_review");
  EXPECT_EQ(rec.abi_version, "protocol-1");
  EXPECT_EQ(rec.sha256, *Sha256FileHex(Installed()));
  EXPECT_EQ(set->plugins[0]->isolated(), GetParam() == Isolation::kProcess);
  auto answer = set->plugins[0]->Call(Request(), absl::Seconds(5));
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->candidates_size(), 1);
  EXPECT_EQ(answer->candidates(0).summary(),
            "VISA-A gained 5 points in 49 days (under 10): review the plan");
}

TEST_P(ProtocolHostTest, AllowlistAppliesToProtocolFiles) {
  Install(Example());
  auto refused = Host({std::string(64, '0')});
  ASSERT_NE(refused, nullptr);
  ASSERT_EQ(refused->Current()->plugins.size(), 0u);
  EXPECT_NE(refused->Current()->records[0].reason.find("allowlist"),
            std::string::npos);
  auto allowed = Host({*Sha256FileHex(Installed())});
  ASSERT_NE(allowed, nullptr);
  EXPECT_EQ(allowed->Current()->plugins.size(), 1u);
}

TEST_P(ProtocolHostTest, ReloadPicksUpAChangedFile) {
  Install(Example());
  auto host = Host();
  ASSERT_NE(host, nullptr);
  std::string text = Example();
  text.replace(text.find("version: 1.0.0"), 14, "version: 1.1.0");
  Install(text);
  auto result = host->Reload();
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->changed, std::vector<std::string>{"clinic_visa_review"});
  EXPECT_EQ(host->Current()->plugins[0]->record().version, "1.1.0");
}

// True when `s` is well-formed UTF-8 (it ends up in a proto3 string).
bool WellFormedUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t n = c < 0x80         ? 1
                     : (c >> 5) == 6  ? 2
                     : (c >> 4) == 14 ? 3
                     : (c >> 3) == 30 ? 4
                                      : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

TEST_P(ProtocolHostTest, LongErrorsAreCutOnACharacterBoundary) {
  std::string text = Example();
  const std::string from = "min_gain: 10";
  std::string accents;
  for (int i = 0; i < 400; ++i) accents += "\u00e9";  // 2 bytes each.
  text.replace(text.find(from), from.size(),
               "min_gain: \"error('" + accents + "')\"");
  Install(text);
  auto host = Host();
  ASSERT_NE(host, nullptr);
  ASSERT_EQ(host->Current()->plugins.size(), 1u)
      << host->Current()->records[0].reason;
  auto answer = host->Current()->plugins[0]->Call(Request(), absl::Seconds(5));
  ASSERT_FALSE(answer.ok());
  const std::string message(answer.status().message());
  EXPECT_NE(message.find("\xc3\xa9"), std::string::npos) << message;
  EXPECT_LT(message.size(), 512u + 100u);
  EXPECT_TRUE(WellFormedUtf8(message)) << message;
}

TEST(ProtocolHostModesTest, WorkerAndInProcessGiveTheSameBytes) {
  TempDir dir;
  fs::copy_file(kVisa, dir.Sub("visa_a_review.protocol.yaml"));
  std::string bytes[2];
  const Isolation modes[2] = {Isolation::kInProcess, Isolation::kProcess};
  for (int i = 0; i < 2; ++i) {
    HostOptions options;
    options.plugin_dir = dir.path();
    options.isolation = modes[i];
    options.worker_binary = WORKER_BINARY;
    auto host = PluginHost::Create(options);
    ASSERT_TRUE(host.ok()) << host.status();
    auto set = (*host)->Current();
    ASSERT_EQ(set->plugins.size(), 1u);
    v1::PluginRequest r;
    r.mutable_features()->mutable_visa_a_first()->set_present(true);
    r.mutable_features()->mutable_visa_a_first()->mutable_at()->set_seconds(0);
    r.mutable_features()->mutable_visa_a_latest()->set_present(true);
    r.mutable_features()->mutable_visa_a_latest()->mutable_at()->set_seconds(
        50 * 86400);
    auto answer =
        set->plugins[0]->Call(r.SerializeAsString(), absl::Seconds(5));
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_EQ(answer->candidates_size(), 1);
    bytes[i] = answer->SerializeAsString();
  }
  EXPECT_EQ(bytes[0], bytes[1]);
}

INSTANTIATE_TEST_SUITE_P(Modes, ProtocolHostTest,
                         ::testing::Values(Isolation::kInProcess,
                                           Isolation::kProcess),
                         [](const ::testing::TestParamInfo<Isolation>& info) {
                           return info.param == Isolation::kProcess
                                      ? "process"
                                      : "inprocess";
                         });

}  // namespace
}  // namespace achilles::plugins
