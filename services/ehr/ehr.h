// EHR integration: an HTTPS listener speaking HL7 CDS Hooks 2.0 and FHIR R4,
// and the clinician report. docs/EHR.md is the integrator's guide and
// docs/FHIR_MAPPING.md the FHIR <-> event table.
//
//   Listener       cpp-httplib over OpenSSL in the server process, on its own
//                  port, off unless configured. TLS from the same files as
//                  gRPC, re-read when they change; plaintext only on loopback
//                  and only when asked. Bounded: worker threads, queued
//                  connections, body size, read/write timeouts, keep-alive
//                  requests and idle time. Every route passes the security Gate
//                  (roles, clinic, rate limit, audit) with a caller from the
//                  EHR's signed JWT (CDS Hooks) or an achilles bearer token.
//   ParseBundle    a FHIR Bundle -> one patient's events, or every problem
//                  with the resource's fullUrl. Pure; used by the listener
//                  (prefetch, /fhir import) and by `achillesctl import fhir`.
//   ExportBundle   a patient's timeline -> a FHIR collection Bundle that
//                  ParseBundle reads back to the same events.
//   RenderReport   the self-contained HTML clinician report (inline SVG
//                  chart, no external resources). Pure and deterministic.
//
// Thread-safety: Listener methods may be called from any thread; the free
// functions are pure.
#ifndef ACHILLES_SERVICES_EHR_EHR_H_
#define ACHILLES_SERVICES_EHR_EHR_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"

namespace achilles::api {
struct Backend;  // services/api/api.h
}  // namespace achilles::api

namespace achilles::ehr {

struct ListenerOptions {
  std::string listen_address;  // "host:port"; empty = the listener is off.
  // Base URL the EHR calls (the JWT `aud` and the links in cards), e.g.
  // "https://cds.clinic.example:8443". Empty = https://<listen host>:<port>.
  std::string public_url;
  // JSON file of trusted issuers (docs/EHR.md): each issuer's public keys
  // and the clinic and roles its tokens act as.
  std::string trust_file;
  // TLS exactly as gRPC: server certificate and key, optional client CA.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  unsigned int tls_refresh_seconds = 60;  // Renewed files are picked up.
  bool insecure_plaintext = false;        // Plaintext, loopback only.
  // Bounds.
  int threads = 8;      // Requests served at once.
  int max_queued = 64;  // Accepted connections waiting for one.
  size_t max_body_bytes = 4 << 20;
  int read_timeout_seconds = 10;
  int write_timeout_seconds = 10;
  int keep_alive_max_requests = 100;
  int keep_alive_seconds = 5;
  // Outbound fetches: what a CDS Hooks prefetch lacks, from the request's
  // fhirServer (only servers the trust file lists for the issuer), and
  // issuers' JWKS URLs. https only unless plain http is allowed (testing);
  // CA file empty = the system's CAs.
  bool outbound_allow_http = false;
  std::string outbound_ca_file;
  int fhir_timeout_seconds = 10;
  size_t fhir_max_bytes = 4 << 20;
};

class Listener {
 public:
  // INVALID_ARGUMENT / FAILED_PRECONDITION naming the option for bad
  // configuration (unreadable trust file or certificate, plaintext off
  // loopback); UNAVAILABLE when the address cannot be bound. `backend`
  // must outlive the listener.
  static absl::StatusOr<std::unique_ptr<Listener>> Start(
      const ListenerOptions& options, api::Backend* backend);
  ~Listener();  // Stop().

  int port() const;
  // Stops accepting, lets requests in progress finish. Idempotent.
  void Stop();

 private:
  Listener() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One resource that could not be imported (or was skipped).
struct BundleIssue {
  std::string full_url;  // Bundle.entry.fullUrl, or "entry[i]" without one.
  std::string reason;    // Names the element, e.g. "valueInteger: 11 > 10".
};

struct ParsedBundle {
  v1::Patient patient;  // patient_id always set; the rest when present.
  bool has_patient_resource = false;
  std::vector<v1::Event> events;     // Ordered by the entries.
  std::vector<BundleIssue> errors;   // Non-empty: nothing may be imported.
  std::vector<BundleIssue> skipped;  // Unsupported types; not an error.
};

// Parses a Bundle (collection, transaction or searchset) or a single
// resource. `patient_id` non-empty pins the patient: resources about
// another patient are errors. INVALID_ARGUMENT only when `json` is not a
// JSON object; everything else is reported per resource in the result.
absl::StatusOr<ParsedBundle> ParseBundle(const std::string& json,
                                         const std::string& patient_id);

// Events ExportBundle left out because the mapping has no resource for
// their kind (docs/FHIR_MAPPING.md), counted per kind.
struct LeftOut {
  int total = 0;
  std::map<std::string, int> by_kind;  // Event kind (oneof field) -> count.
  // "kind=n,kind=n" in kind order; "" when nothing was left out.
  std::string ByKindText() const;
};

// The timeline as a FHIR R4 collection Bundle (JSON, deterministic).
// Events of kinds the mapping has no resource for are left out and
// reported in `*left_out` (may be null).
std::string ExportBundle(const v1::Patient& patient,
                         const std::vector<v1::Event>& events,
                         LeftOut* left_out);

// The clinician report for one patient: chart of the timeline with red
// flags and recommendations marked, then the ranked recommendations with
// their rationale, each observed value linked to its chart point.
std::string RenderReport(const v1::Patient& patient,
                         const std::vector<v1::Event>& events,
                         const v1::Evaluation& evaluation);

}  // namespace achilles::ehr

#endif  // ACHILLES_SERVICES_EHR_EHR_H_
