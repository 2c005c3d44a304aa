// RPC, evaluation and caseload figures, and the request log line.
#include <cctype>
#include <cmath>

#include "absl/strings/ascii.h"
#include "common/log.h"
#include "services/telemetry/telemetry.h"

namespace achilles::telemetry {
namespace {

metrics::Registry& R() { return metrics::Registry::Default(); }

std::string CodeName(absl::StatusCode code) {
  return absl::StatusCodeToString(code);
}

bool ServerFault(absl::StatusCode code) {
  return code == absl::StatusCode::kInternal ||
         code == absl::StatusCode::kUnavailable ||
         code == absl::StatusCode::kDataLoss ||
         code == absl::StatusCode::kUnknown;
}

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) {
      return false;
    }
  }
  return true;
}

}  // namespace

void RecordCall(const CallInfo& call) {
  static auto& requests = R().CounterFamily(
      "achilles_rpc_requests_total",
      "gRPC calls finished, by full method name and status code.",
      {"method", "code"});
  static auto& latency = R().HistogramFamily(
      "achilles_rpc_duration_seconds",
      "Time from admitting a gRPC call to finishing it, by method and "
      "status code.",
      {"method", "code"});
  const std::string code = CodeName(call.code);
  requests.WithLabels({call.method, code}).Increment();
  latency.WithLabels({call.method, code}).Observe(call.seconds);
  LogEvent(ServerFault(call.code) ? LogLevel::kWarning : LogLevel::kInfo,
           "request",
           {{"method", call.method},
            {"code", code},
            // Microsecond resolution: more digits are noise.
            {"latency_ms", std::round(call.seconds * 1e6) / 1e3},
            {"clinic", call.clinic},
            {"caller", call.subject},
            {"credential", call.credential_id},
            {"peer", call.peer},
            {"trace_id", call.trace_id},
            {"patient", call.patient_pseudonym}});
}

std::string TraceIdFromTraceparent(absl::string_view v) {
  // version "-" trace-id "-" parent-id "-" flags; a later version may add
  // fields after the flags, so only the first 55 characters are read then.
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return "";
  const absl::string_view version = v.substr(0, 2);
  const absl::string_view trace = v.substr(3, 32);
  const absl::string_view parent = v.substr(36, 16);
  const absl::string_view flags = v.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace) ||
      !IsLowerHex(parent) || !IsLowerHex(flags)) {
    return "";
  }
  if (version == "00" && v.size() != 55) return "";
  if (trace == std::string(32, '0') || parent == std::string(16, '0')) {
    return "";
  }
  return std::string(trace);
}

void RecordEvaluation(absl::string_view outcome) {
  static auto& evaluations = R().CounterFamily(
      "achilles_evaluations_total",
      "Interactive evaluations by outcome: the confidence level of the "
      "answer (high, moderate, low) or failed.",
      {"outcome"});
  evaluations.WithLabels({outcome}).Increment();
}

namespace {
metrics::Gauge& ActiveRuns() {
  static auto& active = R().GaugeFamily("achilles_caseload_runs_active",
                                        "Caseload re-evaluation runs running.");
  return active.WithLabels({});
}
}  // namespace

void RecordCaseloadRunStarted() { ActiveRuns().Add(1); }

void RecordCaseloadPatients(int64_t patients) {
  static auto& done = R().CounterFamily(
      "achilles_caseload_patients_total",
      "Patients whose re-evaluation a caseload run stored and streamed.");
  done.WithLabels({}).Increment(static_cast<uint64_t>(patients));
}

void RecordCaseloadRunEnded(absl::StatusCode code) {
  static auto& runs = R().CounterFamily(
      "achilles_caseload_runs_total",
      "Caseload re-evaluation runs ended, by status code.", {"code"});
  ActiveRuns().Add(-1);
  runs.WithLabels({CodeName(code)}).Increment();
}

void RecordBuildInfo(absl::string_view version, absl::string_view build) {
  R().GaugeFamily("achilles_build_info",
                  "The running server's version and build (always 1).",
                  {"version", "build"})
      .WithLabels({version, build})
      .Set(1);
}

}  // namespace achilles::telemetry
