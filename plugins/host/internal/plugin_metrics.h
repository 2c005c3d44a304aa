// What the plugin host reports to operators: per-plugin call latency and
// outcome, worker processes lost and replaced, and every load, refusal,
// crash and restart as a log line. Internal to plugins/host.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_METRICS_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_METRICS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace achilles::plugins_internal {

// One call's outcome (the status code, "ok" when it answered) and the time
// from handing it over to collecting its answer.
void RecordPluginCall(const std::string& plugin, const absl::Status& status,
                      double seconds);

// A worker process that ended and will be replaced by the next call:
// `reason` is crashed, timeout, ended_idle, retired (CPU budget) or
// abandoned (its call was never collected). Logged at warning unless
// retired; `detail` says how it ended (signal, exit code).
void RecordWorkerRestart(const std::string& plugin, absl::string_view reason,
                         absl::string_view detail);

// A plugin file loaded, refused, or unloaded at a scan.
void RecordPluginLoad(absl::string_view result, absl::string_view plugin,
                      absl::string_view version, absl::string_view file,
                      absl::string_view detail);

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_METRICS_H_
