// GET /report/{patient}: the clinician report, behind the same auth as
// every route, or with the short-lived link token a card carries (a card
// link opens in a browser that has no JWT). GET /reference/rules: the rule
// reference cards cite.
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/ehr/internal/report_chart.h"
#include "services/ehr/internal/routes.h"
#include "services/validation/validation.h"

namespace achilles::ehr_internal {

extern const char kRulesMarkdown[];

namespace {

constexpr int64_t kLinkSeconds = 3600;

std::string LinkScope(const std::string& pid) {
  return absl::StrCat("report-link", std::string(1, '\0'), pid);
}

// The caller a link token stands for: a clinician of the token's clinic.
absl::StatusOr<security::Caller> LinkCaller(HttpEnv& env,
                                            const httplib::Request& req,
                                            const std::string& pid) {
  auto inner = api::OpenPageToken(*env.backend->secret, LinkScope(pid),
                                  req.get_param_value("t"));
  std::vector<std::string> parts =
      inner.ok() ? absl::StrSplit(*inner, '\n') : std::vector<std::string>();
  int64_t expires = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &expires)) {
    return absl::UnauthenticatedError("t: not a report link of this server");
  }
  if (expires < NowMicros() / 1000000) {
    return absl::UnauthenticatedError("t: the report link has expired");
  }
  security::Caller c;
  c.subject = "report-link";
  c.credential_id = "report-link";
  c.clinic = parts[0];
  c.roles = security::Bit(v1::ROLE_CLINICIAN);
  c.peer = absl::StrCat("https:", req.remote_addr, ":", req.remote_port);
  return c;
}

absl::StatusOr<v1::Evaluation> LatestOrFresh(HttpEnv& env,
                                             const std::string& clinic,
                                             const std::string& pid) {
  auto latest = env.backend->store->GetLatestEvaluation(clinic, pid);
  if (latest.ok() || !absl::IsNotFound(latest.status())) return latest;
  engine::EvaluateOptions options;
  options.dry_run = true;
  return env.backend->engine->Evaluate(clinic, pid, options);
}

absl::Status Report(HttpEnv& env, const std::string& pid,
                    httplib::Response& res, const security::Caller& caller) {
  ACH_RETURN_IF_ERROR(validation::ValidateId("patient id", pid));
  auto patient = env.backend->store->GetPatient(caller.clinic, pid);
  if (!patient.ok()) return patient.status();
  auto ev = LatestOrFresh(env, caller.clinic, pid);
  if (!ev.ok()) return ev.status();
  auto events = env.backend->store->LoadTimeline(caller.clinic, pid,
                                                 ToMicros(ev->as_of()));
  if (!events.ok()) return events.status();
  res.status = 200;
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; style-src 'unsafe-inline'; "
                 "script-src 'unsafe-inline'; img-src data:");
  res.set_header("Cache-Control", "no-store");
  res.set_content(ehr::RenderReport(*patient, *events, *ev),
                  "text/html; charset=utf-8");
  return absl::OkStatus();
}

std::string RulesPage() {
  std::string body;
  std::string text;
  auto flush = [&] {
    if (!text.empty()) absl::StrAppend(&body, "<pre>", Html(text), "</pre>");
    text.clear();
  };
  for (absl::string_view line : absl::StrSplit(kRulesMarkdown, '\n')) {
    if (absl::StartsWith(line, "### ") || absl::StartsWith(line, "## ")) {
      flush();
      const bool h3 = absl::StartsWith(line, "### ");
      const std::string title(line.substr(h3 ? 4 : 3));
      absl::StrAppend(&body, h3 ? "<h3 id=\"" : "<h2 id=\"", Html(title), "\">",
                      Html(title), h3 ? "</h3>" : "</h2>");
    } else {
      absl::StrAppend(&text, line, "\n");
    }
  }
  flush();
  return absl::StrCat(
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>achilles-cds clinical rules</title><style>body{font:15px "
      "system-ui,sans-serif;margin:24px;max-width:960px}pre{white-space:"
      "pre-wrap;font:inherit}</style></head><body>",
      body, "</body></html>\n");
}

}  // namespace

std::string ReportLink(HttpEnv& env, const std::string& clinic,
                       const std::string& pid) {
  const int64_t expires = NowMicros() / 1000000 + kLinkSeconds;
  return absl::StrCat(env.public_url, "/report/", pid, "?t=",
                      api::SealPageToken(*env.backend->secret, LinkScope(pid),
                                         absl::StrCat(clinic, "\n", expires)));
}

const security::MethodPolicy& ReportPolicy() {
  static const security::MethodPolicy p{
      "ehr/report",
      security::Bit(v1::ROLE_EHR) | security::Bit(v1::ROLE_CLINICIAN), true,
      true};
  return p;
}

void AddReportRoutes(httplib::Server& server, HttpEnv& env) {
  server.Get("/reference/rules",
             [](const httplib::Request&, httplib::Response& res) {
               static const std::string* page = new std::string(RulesPage());
               res.set_content(*page, "text/html; charset=utf-8");
             });
  server.Get(R"(/report/([^/]+))", [&env](const httplib::Request& req,
                                          httplib::Response& res) {
    const std::string pid = req.matches[1];
    if (req.has_header("Authorization") || !req.has_param("t")) {
      Serve(env, req, res, ReportPolicy(),
            [&](const security::Caller& c, std::string* audited) {
              *audited = pid;
              return Report(env, pid, res, c);
            });
      return;
    }
    auto caller = LinkCaller(env, req, pid);
    absl::Status outcome = caller.status();
    if (caller.ok()) {
      outcome = env.backend->gate->AdmitAuthenticated(*caller, ReportPolicy());
    }
    if (outcome.ok()) outcome = Report(env, pid, res, *caller);
    const std::string peer =
        absl::StrCat("https:", req.remote_addr, ":", req.remote_port);
    outcome = env.backend->gate->Record(peer, ReportPolicy(), caller,
                                        caller.ok() ? pid : "", outcome);
    if (!outcome.ok()) SendError(res, outcome);
  });
}

}  // namespace achilles::ehr_internal
