// FHIR R4 over the listener: POST /fhir imports a Bundle (all or nothing),
// GET /fhir/Patient/{id}/$everything exports the timeline as a Bundle.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/ehr/internal/json_util.h"
#include "services/ehr/internal/routes.h"
#include "services/validation/validation.h"

namespace achilles::ehr_internal {
namespace {

constexpr size_t kMaxIssuesInMessage = 20;

OJson IssuesJson(const std::vector<ehr::BundleIssue>& issues) {
  OJson out = OJson::array();
  for (const auto& i : issues) {
    out.push_back({{"fullUrl", i.full_url}, {"reason", i.reason}});
  }
  return out;
}

absl::Status Import(HttpEnv& env, const httplib::Request& req,
                    httplib::Response& res, const security::Caller& caller,
                    std::string* patient_id) {
  auto parsed = ehr::ParseBundle(req.body, "");
  if (!parsed.ok()) return parsed.status();
  *patient_id = parsed->patient.patient_id();
  if (!parsed->errors.empty()) {
    // A FHIR-shaped refusal naming every resource, not just the first.
    OJson body;
    body["error"] = IssueList(parsed->errors);
    body["errors"] = IssuesJson(parsed->errors);
    body["skipped"] = IssuesJson(parsed->skipped);
    SendJson(res, 400, Dump(body));
    return absl::InvalidArgumentError(IssueList(parsed->errors));
  }
  auto appended = StoreBundle(env, caller.clinic, *parsed);
  if (!appended.ok()) return appended.status();
  OJson body;
  body["patient"] = parsed->patient.patient_id();
  body["events"] = parsed->events.size();
  body["appended"] = *appended;
  body["duplicates"] = static_cast<int>(parsed->events.size()) - *appended;
  body["skipped"] = IssuesJson(parsed->skipped);
  SendJson(res, 200, Dump(body));
  return absl::OkStatus();
}

absl::Status Export(HttpEnv& env, const std::string& pid,
                    httplib::Response& res, const security::Caller& caller) {
  ACH_RETURN_IF_ERROR(validation::ValidateId("Patient id", pid));
  auto patient = env.backend->store->GetPatient(caller.clinic, pid);
  if (!patient.ok()) return patient.status();
  auto events =
      env.backend->store->LoadTimeline(caller.clinic, pid, INT64_MAX / 2);
  if (!events.ok()) return events.status();
  ehr::LeftOut left_out;
  res.status = 200;
  res.set_content(ehr::ExportBundle(*patient, *events, &left_out),
                  "application/fhir+json");
  // Never silent: what the mapping could not carry, counted per kind.
  res.set_header("X-Achilles-Events-Left-Out", std::to_string(left_out.total));
  if (left_out.total > 0) {
    res.set_header("X-Achilles-Events-Left-Out-By-Kind", left_out.ByKindText());
  }
  return absl::OkStatus();
}

}  // namespace

std::string IssueList(const std::vector<ehr::BundleIssue>& issues) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < issues.size() && i < kMaxIssuesInMessage; ++i) {
    parts.push_back(absl::StrCat(issues[i].full_url, ": ", issues[i].reason));
  }
  if (issues.size() > kMaxIssuesInMessage) {
    parts.push_back(absl::StrCat(issues.size() - kMaxIssuesInMessage, " more"));
  }
  return absl::StrCat("bundle refused, nothing stored: ",
                      absl::StrJoin(parts, "; "));
}

absl::StatusOr<int> StoreBundle(HttpEnv& env, const std::string& clinic,
                                const ehr::ParsedBundle& bundle) {
  if (!bundle.errors.empty()) {
    return absl::InvalidArgumentError(IssueList(bundle.errors));
  }
  storage::TimelineStore* store = env.backend->store;
  const std::string& pid = bundle.patient.patient_id();
  auto existing = store->GetPatient(clinic, pid);
  if (!existing.ok() && !absl::IsNotFound(existing.status())) {
    return existing.status();
  }
  if (!existing.ok()) {
    // A new patient and its events in one write: a failure leaves neither.
    v1::Patient p = bundle.patient;
    auto created = store->CreatePatientWithEvents(clinic, p, bundle.events);
    if (created.ok()) return created->appended;
    // Created by a concurrent import since the read: append as below.
    if (!absl::IsAlreadyExists(created.status())) return created.status();
  }
  if (bundle.events.empty()) return 0;
  // Covered by the call's synced audit entry (http_env.h).
  auto result = store->AppendEvents(clinic, pid, bundle.events,
                                    storage::Durability::kCoveredByNextSync);
  if (!result.ok()) return result.status();
  return result->appended;
}

const security::MethodPolicy& ImportPolicy() {
  static const security::MethodPolicy p{
      "ehr/fhir/import", security::Bit(v1::ROLE_EHR), true, true};
  return p;
}

const security::MethodPolicy& ExportPolicy() {
  static const security::MethodPolicy p{
      "ehr/fhir/export",
      security::Bit(v1::ROLE_EHR) | security::Bit(v1::ROLE_CLINICIAN), true,
      true};
  return p;
}

void AddFhirRoutes(httplib::Server& server, HttpEnv& env) {
  server.Post("/fhir",
              [&env](const httplib::Request& req, httplib::Response& res) {
                Serve(env, req, res, ImportPolicy(),
                      [&](const security::Caller& c, std::string* pid) {
                        return Import(env, req, res, c, pid);
                      });
              });
  server.Get(R"(/fhir/Patient/([^/]+)/\$everything)",
             [&env](const httplib::Request& req, httplib::Response& res) {
               const std::string pid = req.matches[1];
               Serve(env, req, res, ExportPolicy(),
                     [&](const security::Caller& c, std::string* audited) {
                       *audited = pid;
                       return Export(env, pid, res, c);
                     });
             });
}

}  // namespace achilles::ehr_internal
