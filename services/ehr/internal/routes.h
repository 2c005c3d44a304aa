// The listener's routes, one group per file: CDS Hooks (cds_routes.cc),
// FHIR import/export (fhir_routes.cc), the clinician report and the rule
// reference (report_routes.cc). Each group registers on the server and
// shares the HttpEnv, which must outlive the server.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_ROUTES_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_ROUTES_H_

#include <httplib.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/ehr/ehr.h"
#include "services/ehr/internal/http_env.h"

namespace achilles::ehr_internal {

void AddCdsRoutes(httplib::Server& server, HttpEnv& env);
void AddFhirRoutes(httplib::Server& server, HttpEnv& env);
void AddReportRoutes(httplib::Server& server, HttpEnv& env);

// Stores a parsed bundle for `clinic`: the patient created when new, then
// every event in one atomic batch. Returns how many events were new.
// INVALID_ARGUMENT listing every issue (fullUrl: reason) when the bundle
// has errors; nothing is stored then.
absl::StatusOr<int> StoreBundle(HttpEnv& env, const std::string& clinic,
                                const ehr::ParsedBundle& bundle);
// "fullUrl: reason; ..." for the first few issues.
std::string IssueList(const std::vector<ehr::BundleIssue>& issues);
// The report URL (with a link token valid for an hour) for card links.
std::string ReportLink(HttpEnv& env, const std::string& clinic,
                       const std::string& patient_id);

// HTTP method policies: names that are not gRPC methods, roles as their
// gRPC counterparts.
const security::MethodPolicy& PatientViewPolicy();
const security::MethodPolicy& OrderSignPolicy();
const security::MethodPolicy& FeedbackPolicy();
const security::MethodPolicy& ImportPolicy();
const security::MethodPolicy& ExportPolicy();
const security::MethodPolicy& ReportPolicy();

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_ROUTES_H_
