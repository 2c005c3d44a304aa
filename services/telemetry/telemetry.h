// Operations telemetry: what the server tells an operator about itself.
//   - RecordCall: every RPC, counted and timed by method and status code,
//     and one "request" log line (method, code, latency, clinic, caller,
//     W3C trace id, patient pseudonym; never a patient id or name).
//   - RecordEvaluation, caseload figures: what the work produced.
//   - MetricsEndpoint: the Prometheus text exposition of the process's
//     registry over HTTP (cpp-httplib) on its own port, loopback only
//     unless the operator allows a remote address explicitly.
//   - Collectors for process figures (CPU, memory, descriptors, start
//     time) and the store's (block cache, compaction, live data, disk).
// docs/OPERATIONS.md lists every metric and the alert rules that use them.
// Thread-safety: all functions are thread-safe; a MetricsEndpoint serves
// from its own thread until destroyed.
#ifndef ACHILLES_SERVICES_TELEMETRY_TELEMETRY_H_
#define ACHILLES_SERVICES_TELEMETRY_TELEMETRY_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/metrics/metrics.h"
#include "storage/timeline_store.h"

namespace achilles::telemetry {

struct CallInfo {
  absl::string_view method;  // Full name, "achilles.v1.Service/Method".
  absl::StatusCode code = absl::StatusCode::kOk;
  double seconds = 0;  // From admission to finish.
  absl::string_view clinic;
  absl::string_view subject;        // The caller's token subject.
  absl::string_view credential_id;  // Which token.
  absl::string_view peer;
  absl::string_view trace_id;           // "" when the call carried none.
  absl::string_view patient_pseudonym;  // "" when the call names none.
  // No status message: messages name the fields at fault, and a field's
  // value can be a patient's id.
};

// Counts and times the call and writes its request log line (info for OK,
// warning for INTERNAL, UNAVAILABLE, DATA_LOSS and UNKNOWN, info otherwise:
// a refused bad request is the caller's problem, not the server's).
void RecordCall(const CallInfo& call);

// The trace id of a W3C traceparent value ("00-<32 hex>-<16 hex>-<2 hex>"),
// or "" when the value is not one (wrong shape, upper-case hex, all-zero
// ids, version ff).
std::string TraceIdFromTraceparent(absl::string_view value);

// One interactive evaluation: its confidence level ("high", "moderate",
// "low") or "failed".
void RecordEvaluation(absl::string_view outcome);

// Caseload runs: one started; patients whose results were stored and
// streamed; one ended with `code`; and its summary counts.
void RecordCaseloadRunStarted();
void RecordCaseloadPatients(int64_t patients);
void RecordCaseloadRunEnded(absl::StatusCode code);

struct EndpointOptions {
  std::string address;  // host:port; port 0 picks one.
  // A non-loopback address only when set: metrics name clinics' load and
  // the server's version, which is no one else's business.
  bool allow_remote = false;
};

// Start's checks of `options`, without binding: for --check_config.
absl::Status CheckEndpointOptions(const EndpointOptions& options);

class MetricsEndpoint {
 public:
  // Serves GET /metrics (the registry's exposition) and nothing else.
  // INVALID_ARGUMENT for an address without a port, FAILED_PRECONDITION
  // for a non-loopback address without allow_remote, UNAVAILABLE when it
  // cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const EndpointOptions& options, metrics::Registry* registry);
  ~MetricsEndpoint();  // Stops serving and joins the thread.
  int port() const { return port_; }

 private:
  struct Impl;
  MetricsEndpoint() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds: the names every Prometheus client uses.
std::vector<metrics::CollectorHandle> AddProcessCollectors(
    metrics::Registry* registry);

// The store's figures (storage::StoreFigures) and the free and total bytes
// of the file system holding `data_dir`. `store` must outlive the handles.
std::vector<metrics::CollectorHandle> AddStoreCollectors(
    metrics::Registry* registry, storage::TimelineStore* store,
    std::string data_dir);

// achilles_build_info{version,build} 1.
void RecordBuildInfo(absl::string_view version, absl::string_view build);

}  // namespace achilles::telemetry

#endif  // ACHILLES_SERVICES_TELEMETRY_TELEMETRY_H_
