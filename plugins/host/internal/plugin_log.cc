#include "plugins/host/internal/plugin_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace achilles::plugins_internal {
namespace {

LogLevel LevelOf(int32_t level) {
  switch (level) {
    case ACH_LOG_DEBUG:
      return LogLevel::kDebug;
    case ACH_LOG_INFO:
      return LogLevel::kInfo;
    case ACH_LOG_WARNING:
      return LogLevel::kWarning;
    default:
      return LogLevel::kError;
  }
}

}  // namespace

std::string SanitizeLogMessage(const char* message, size_t size) {
  if (message == nullptr) return "";
  std::string text(message, std::min<size_t>(size, ACH_MAX_LOG_LEN));
  for (char& c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return text;
}

bool PluginLog::Admit(int* dropped) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (now - window_start_ >= absl::Seconds(1)) {
    window_start_ = now;
    lines_in_window_ = 0;
  }
  if (lines_in_window_ >= kLinesPerSecond) {
    ++dropped_;
    return false;
  }
  ++lines_in_window_;
  *dropped = dropped_;
  dropped_ = 0;
  return true;
}

void PluginLog::Write(int32_t level, const char* message, size_t size) {
  const LogLevel at = LevelOf(level);
  // Below the server's level costs nothing and uses none of the budget.
  if (!LogEnabled(at)) return;
  int dropped = 0;
  if (!Admit(&dropped)) return;
  std::string line = absl::StrCat("plugin ", plugin_id_, ": ",
                                  SanitizeLogMessage(message, size));
  if (dropped > 0) {
    absl::StrAppend(&line, " (", dropped, " earlier lines dropped: over ",
                    kLinesPerSecond, " a second)");
  }
  LogLine(at, line);
}

void PluginLog::Callback(void* host_ptr, int32_t level, const char* message,
                         size_t size) {
  if (host_ptr == nullptr) return;
  static_cast<PluginLog*>(host_ptr)->Write(level, message, size);
}

}  // namespace achilles::plugins_internal
