// Minimal leveled logging to stderr, one line per message with a UTC
// timestamp. (Debian's Abseil predates absl/log.) Thread-safe.
#ifndef ACHILLES_COMMON_LOG_H_
#define ACHILLES_COMMON_LOG_H_

#include <string>

#include "absl/strings/str_cat.h"

namespace achilles {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Parses "debug", "info", "warning", "error"; false on anything else.
bool ParseLogLevel(const std::string& text, LogLevel* out);
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, const std::string& message);

template <typename... Args>
void Log(LogLevel level, const Args&... args) {
  if (LogEnabled(level)) LogLine(level, absl::StrCat(args...));
}

}  // namespace achilles

#endif  // ACHILLES_COMMON_LOG_H_
