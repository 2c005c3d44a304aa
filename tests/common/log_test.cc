#include "common/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace achilles {
namespace {

TEST(Log, TextLineHasKeyValueFieldsQuotedWhenNeeded) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogLevel::kInfo, "T", "request",
                          {{"method", "a.B/C"},
                           {"code", "OK"},
                           {"latency_ms", 1.5},
                           {"n", 3},
                           {"caller", "two words"},
                           {"empty", ""}}),
            "T INFO request method=a.B/C code=OK latency_ms=1.5 n=3 "
            "caller=\"two words\"");
}

TEST(Log, JsonLineIsOneObjectWithFieldsInOrder) {
  const std::string line =
      FormatLogLine(LogFormat::kJson, LogLevel::kWarning, "T", "plugin lost",
                    {{"plugin", "p\"q\n"}, {"ms", 2.25}, {"n", 7}});
  EXPECT_EQ(line,
            "{\"ts\":\"T\",\"level\":\"warn\",\"msg\":\"plugin lost\","
            "\"plugin\":\"p\\\"q\\n\",\"ms\":2.25,\"n\":7}");
  EXPECT_TRUE(nlohmann::json::parse(line).is_object());
}

TEST(Log, InvalidUtf8IsReplacedNotThrown) {
  const std::string bad = "peer\xff\xfe";
  const std::string line =
      FormatLogLine(LogFormat::kJson, LogLevel::kInfo, "T", bad, {{"k", bad}});
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(j.is_object()) << line;
  EXPECT_EQ(j["msg"].get<std::string>().rfind("peer", 0), 0u);
}

TEST(Log, ParseFormat) {
  LogFormat f;
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &f));
  EXPECT_EQ(f, LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("JSON", &f));
}

}  // namespace
}  // namespace achilles
