// Leveled logging to stderr, one line per message. (Debian's Abseil
// predates absl/log.) Two formats, chosen once at start-up:
//   text: 2026-01-02T03:04:05.678Z INFO message key=value key="two words"
//   json: {"ts":"2026-01-02T03:04:05.678Z","level":"info","msg":"message",
//          "key":"value"}   (one object per line, for log shippers)
// Log() writes a message; LogEvent() a message with named fields, which the
// text format writes as key=value and JSON as members. Never pass a patient
// id or name: log a pseudonym (security::ServerSecret::Pseudonym).
// Thread-safe: each line is written whole with one write.
#ifndef ACHILLES_COMMON_LOG_H_
#define ACHILLES_COMMON_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace achilles {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class LogFormat { kText = 0, kJson = 1 };

// Parses "debug", "info", "warning", "error"; false on anything else.
bool ParseLogLevel(const std::string& text, LogLevel* out);
// Parses "text", "json"; false on anything else.
bool ParseLogFormat(const std::string& text, LogFormat* out);
void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
LogFormat GetLogFormat();
LogLevel GetLogLevel();
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, const std::string& message);

// One named value of a structured line: text or a number.
struct LogField {
  LogField(absl::string_view k, absl::string_view v) : key(k), text(v) {}
  LogField(absl::string_view k, const std::string& v) : key(k), text(v) {}
  LogField(absl::string_view k, const char* v) : key(k), text(v) {}
  LogField(absl::string_view k, int64_t v)
      : key(k), number(static_cast<double>(v)), is_number(true) {}
  LogField(absl::string_view k, int v) : key(k), number(v), is_number(true) {}
  LogField(absl::string_view k, double v)
      : key(k), number(v), is_number(true) {}
  absl::string_view key;
  absl::string_view text;
  double number = 0;
  bool is_number = false;
};

// `message` and the fields as one line (fields with an empty text value
// are left out).
void LogEvent(LogLevel level, absl::string_view message,
              std::initializer_list<LogField> fields);

// The line LogEvent would write, without the newline (for tests).
std::string FormatLogLine(LogFormat format, LogLevel level,
                          absl::string_view timestamp,
                          absl::string_view message,
                          std::initializer_list<LogField> fields);

template <typename... Args>
void Log(LogLevel level, const Args&... args) {
  if (LogEnabled(level)) LogLine(level, absl::StrCat(args...));
}

}  // namespace achilles

#endif  // ACHILLES_COMMON_LOG_H_
