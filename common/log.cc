#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace achilles {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};

const char* Name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                          absl::UTCTimeZone());
}

// Text values that would split a key=value reading are quoted, JSON-style.
std::string TextValue(absl::string_view v) {
  const bool plain =
      !v.empty() && v.find_first_of(" \"=\\\n\t") == absl::string_view::npos;
  if (plain) return std::string(v);
  return nlohmann::json(std::string(v))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Number(double v) {
  nlohmann::json j = v;
  if (v == static_cast<double>(static_cast<int64_t>(v))) {
    j = static_cast<int64_t>(v);
  }
  return j.dump();
}

void Write(const std::string& line) {
  // One write per line keeps lines whole across threads (and processes
  // sharing the descriptor), as long as a line fits a pipe's atomic size.
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

bool ParseLogLevel(const std::string& text, LogLevel* out) {
  if (text == "debug") {
    *out = LogLevel::kDebug;
  } else if (text == "info") {
    *out = LogLevel::kInfo;
  } else if (text == "warning") {
    *out = LogLevel::kWarning;
  } else if (text == "error") {
    *out = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

bool ParseLogFormat(const std::string& text, LogFormat* out) {
  if (text == "text") {
    *out = LogFormat::kText;
  } else if (text == "json") {
    *out = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogFormat GetLogFormat() { return static_cast<LogFormat>(g_format.load()); }

void SetLogFormat(LogFormat format) {
  g_format.store(static_cast<int>(format));
}

LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load();
}

std::string FormatLogLine(LogFormat format, LogLevel level,
                          absl::string_view timestamp,
                          absl::string_view message,
                          std::initializer_list<LogField> fields) {
  if (format == LogFormat::kJson) {
    // ordered_json keeps ts, level, msg first and the fields in call order.
    nlohmann::ordered_json j;
    j["ts"] = std::string(timestamp);
    j["level"] = absl::AsciiStrToLower(Name(level));
    j["msg"] = std::string(message);
    for (const LogField& f : fields) {
      const std::string key(f.key);
      if (f.is_number) {
        j[key] = f.number;
        if (f.number == static_cast<double>(static_cast<int64_t>(f.number))) {
          j[key] = static_cast<int64_t>(f.number);
        }
      } else if (!f.text.empty()) {
        j[key] = std::string(f.text);
      }
    }
    // Invalid UTF-8 (a peer's bytes) is replaced, never a throw.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = absl::StrCat(timestamp, " ", Name(level), " ", message);
  for (const LogField& f : fields) {
    if (f.is_number) {
      absl::StrAppend(&line, " ", f.key, "=", Number(f.number));
    } else if (!f.text.empty()) {
      absl::StrAppend(&line, " ", f.key, "=", TextValue(f.text));
    }
  }
  return line;
}

void LogLine(LogLevel level, const std::string& message) {
  const auto format = static_cast<LogFormat>(g_format.load());
  Write(FormatLogLine(format, level, Now(), message, {}) + "\n");
}

void LogEvent(LogLevel level, absl::string_view message,
              std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  const auto format = static_cast<LogFormat>(g_format.load());
  Write(FormatLogLine(format, level, Now(), message, fields) + "\n");
}

}  // namespace achilles
