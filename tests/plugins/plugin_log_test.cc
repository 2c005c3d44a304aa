// The host's log callback for plugins: what a plugin's text becomes, and
// the rate limit that keeps a chatty plugin from flooding the server's log.
#include "plugins/host/internal/plugin_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/time/clock.h"
#include "common/log.h"
#include "tests/common/temp_dir.h"

namespace achilles::plugins_internal {
namespace {

TEST(PluginLogTest, ControlCharactersBecomeSpacesAndLongTextIsCut) {
  EXPECT_EQ(SanitizeLogMessage("a\nb\rc\td\x1b[31m", 12), "a b c d [31m");
  EXPECT_EQ(SanitizeLogMessage("abc", 2), "ab");  // Not NUL-terminated.
  EXPECT_EQ(SanitizeLogMessage(nullptr, 5), "");
  const std::string huge(5000, 'x');
  EXPECT_EQ(SanitizeLogMessage(huge.data(), huge.size()).size(),
            size_t{ACH_MAX_LOG_LEN});
}

// Lines written to stderr while `write` runs.
template <typename F>
std::string Captured(F write) {
  achilles::testing::TempDir dir;
  const std::string path = dir.Sub("err.txt");
  std::fflush(stderr);
  const int saved = dup(2);
  std::FILE* f = std::fopen(path.c_str(), "w");
  dup2(fileno(f), 2);
  std::fclose(f);
  write();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST(PluginLogTest, LinesArePrefixedLevelledAndRateLimited) {
  PluginLog log("chatty");
  const std::string text = Captured([&] {
    for (int i = 0; i < 3 * PluginLog::kLinesPerSecond; ++i) {
      PluginLog::Callback(&log, ACH_LOG_WARNING, "hello", 5);
    }
    PluginLog::Callback(&log, 99, "unknown level", 13);
  });
  EXPECT_EQ(Count(text, "WARN plugin chatty: hello"),
            PluginLog::kLinesPerSecond)
      << text;
  EXPECT_EQ(Count(text, "unknown level"), 0) << text;  // Over the limit too.
  // After the window, the next line says how many were dropped.
  absl::SleepFor(absl::Milliseconds(1100));
  const std::string later =
      Captured([&] { PluginLog::Callback(&log, 99, "unknown level", 13); });
  EXPECT_NE(later.find("ERROR plugin chatty: unknown level (41 earlier lines "
                       "dropped: over 20 a second)"),
            std::string::npos)
      << later;
}

TEST(PluginLogTest, LinesBelowTheServersLevelAreDroppedForFree) {
  PluginLog log("quiet");
  SetLogLevel(LogLevel::kWarning);
  const std::string text = Captured([&] {
    for (int i = 0; i < 100; ++i) log.Write(ACH_LOG_INFO, "info", 4);
    log.Write(ACH_LOG_ERROR, "error", 5);
  });
  SetLogLevel(LogLevel::kInfo);
  EXPECT_EQ(Count(text, "info"), 0) << text;
  EXPECT_EQ(Count(text, "ERROR plugin quiet: error\n"), 1) << text;
}

}  // namespace
}  // namespace achilles::plugins_internal
