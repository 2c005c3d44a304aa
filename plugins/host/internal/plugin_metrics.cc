#include "plugins/host/internal/plugin_metrics.h"

#include "absl/strings/ascii.h"
#include "common/log.h"
#include "common/metrics/metrics.h"

namespace achilles::plugins_internal {
namespace {

metrics::Registry& R() { return metrics::Registry::Default(); }

std::string CodeName(const absl::Status& status) {
  if (status.ok()) return "ok";
  return absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

}  // namespace

void RecordPluginCall(const std::string& plugin, const absl::Status& status,
                      double seconds) {
  static auto& calls = R().CounterFamily(
      "achilles_plugin_calls_total",
      "Plugin calls by plugin id and outcome (ok, or the status code of the "
      "failure: deadline_exceeded, internal, unavailable, ...).",
      {"plugin", "code"});
  static auto& latency = R().HistogramFamily(
      "achilles_plugin_call_duration_seconds",
      "Time from handing a call to a plugin to collecting its answer.",
      {"plugin"});
  calls.WithLabels({plugin, CodeName(status)}).Increment();
  latency.WithLabels({plugin}).Observe(seconds);
}

void RecordWorkerRestart(const std::string& plugin, absl::string_view reason,
                         absl::string_view detail) {
  static auto& restarts = R().CounterFamily(
      "achilles_plugin_worker_restarts_total",
      "Plugin worker processes that ended and are replaced by the next "
      "call, by plugin and reason (crashed, timeout, ended_idle, retired, "
      "abandoned).",
      {"plugin", "reason"});
  restarts.WithLabels({plugin, reason}).Increment();
  LogEvent(reason == "retired" ? LogLevel::kInfo : LogLevel::kWarning,
           "plugin worker restart",
           {{"plugin", plugin}, {"reason", reason}, {"detail", detail}});
}

void RecordPluginLoad(absl::string_view result, absl::string_view plugin,
                      absl::string_view version, absl::string_view file,
                      absl::string_view detail) {
  static auto& loads = R().CounterFamily(
      "achilles_plugin_loads_total",
      "Plugin files loaded, refused or unloaded by scans (start-up, SIGHUP, "
      "ReloadPlugins).",
      {"result"});
  loads.WithLabels({result}).Increment();
  LogEvent(result == "refused" ? LogLevel::kWarning : LogLevel::kInfo,
           absl::StrCat("plugin ", result),
           {{"plugin", plugin},
            {"version", version},
            {"file", file},
            {"detail", detail}});
}

}  // namespace achilles::plugins_internal
