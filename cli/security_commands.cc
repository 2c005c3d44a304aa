#include "cli/security_commands.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "achilles/v1/security_service.grpc.pb.h"
#include "cli/connection.h"
#include "cli/format.h"
#include "common/time_util.h"
#include "services/security/roles.h"

ABSL_FLAG(std::string, subject, "", "token issue: who holds the token");
ABSL_FLAG(std::string, roles, "",
          "token issue: comma-separated ehr, clinician, clinic-admin or "
          "operator");
ABSL_FLAG(int, valid_days, 0, "token issue: expiry in days (0 = none)");
ABSL_FLAG(std::string, bound_cert_cn, "",
          "token issue: accept the token only with this client certificate");
ABSL_FLAG(uint64_t, from_seq, 1, "audit list: first entry");
ABSL_FLAG(int, limit, 100, "audit list: entries (1-1000)");
ABSL_FLAG(std::string, patient, "",
          "audit list: only entries about this patient (with --clinic)");

namespace achilles::cli {
namespace {

namespace v1 = achilles::v1;

bool ParseRoles(const std::string& text, v1::IssueTokenRequest* req) {
  for (absl::string_view word : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    auto role = security::ParseRole(std::string(word));
    if (!role.ok()) return false;
    req->add_roles(*role);
  }
  return req->roles_size() > 0;
}

void PrintCredential(const v1::Credential& c) {
  std::vector<std::string> roles;
  for (int r : c.roles())
    roles.push_back(security::RoleName(static_cast<v1::Role>(r)));
  std::cout << c.credential_id() << "  " << c.subject() << "  clinic "
            << (c.clinic_id().empty() ? "-" : c.clinic_id()) << "  roles "
            << absl::StrJoin(roles, ",")
            << (c.has_revoked_at() ? "  REVOKED" : "")
            << (c.has_expires_at()
                    ? "  expires " + FormatMicros(ToMicros(c.expires_at()))
                    : "")
            << "\n";
}

int Issue(v1::CredentialService::Stub& stub, bool json) {
  v1::IssueTokenRequest req;
  req.set_subject(absl::GetFlag(FLAGS_subject));
  req.set_clinic_id(absl::GetFlag(FLAGS_clinic));
  req.set_valid_days(absl::GetFlag(FLAGS_valid_days));
  req.set_bound_cert_cn(absl::GetFlag(FLAGS_bound_cert_cn));
  if (!ParseRoles(absl::GetFlag(FLAGS_roles), &req)) {
    return UsageError(
        "--roles: give one or more of ehr, clinician, clinic-admin, operator");
  }
  grpc::ClientContext ctx;
  // --clinic names the new token's clinic here, not the caller's.
  Decorate(&ctx, /*deadline=*/true, /*clinic_header=*/false);
  v1::IssueTokenResponse resp;
  auto st = stub.IssueToken(&ctx, req, &resp);
  if (!st.ok()) return PrintRpcError(st);
  if (json) return std::cout << JsonLine(resp) << "\n", 0;
  // The token alone on stdout, so `> file` captures exactly it; the record
  // goes to stderr.
  std::cout << resp.token() << "\n";
  std::cerr << "issued " << resp.credential().credential_id()
            << " (shown once; store it safely)\n";
  return 0;
}

int Tokens(const std::shared_ptr<grpc::Channel>& channel,
           const std::vector<std::string>& a, bool json) {
  auto stub = v1::CredentialService::NewStub(channel);
  const std::string sub = a.size() > 1 ? a[1] : "";
  if (sub == "issue") return Issue(*stub, json);
  grpc::ClientContext ctx;
  Decorate(&ctx);
  if (sub == "list") {
    v1::ListTokensResponse resp;
    auto st = stub->ListTokens(&ctx, v1::ListTokensRequest(), &resp);
    if (!st.ok()) return PrintRpcError(st);
    if (json) return std::cout << JsonLine(resp) << "\n", 0;
    for (const auto& c : resp.credentials()) PrintCredential(c);
    return 0;
  }
  if (sub == "revoke" && a.size() > 2) {
    v1::RevokeTokenRequest req;
    req.set_credential_id(a[2]);
    v1::RevokeTokenResponse resp;
    auto st = stub->RevokeToken(&ctx, req, &resp);
    if (!st.ok()) return PrintRpcError(st);
    if (json) return std::cout << JsonLine(resp) << "\n", 0;
    std::cout << "revoked ";
    PrintCredential(resp.credential());
    return 0;
  }
  return UsageError("token: issue, list or revoke CREDENTIAL_ID");
}

void PrintRecord(const v1::AuditRecord& r) {
  std::cout << r.seq() << "  " << FormatMicros(ToMicros(r.at())) << "  "
            << r.outcome() << "  " << r.method() << "  " << r.subject() << "@"
            << (r.clinic_id().empty() ? "-" : r.clinic_id()) << "  " << r.peer()
            << (r.patient_pseudonym().empty()
                    ? ""
                    : "  patient " + r.patient_pseudonym())
            << "\n";
}

// Pages through the trail from `from`, calling `each` per entry.
int Walk(v1::AuditService::Stub& stub, uint64_t from, int limit,
         const std::function<void(const v1::AuditRecord&)>& each) {
  int seen = 0;
  while (from != 0 && (limit <= 0 || seen < limit)) {
    v1::ListAuditRequest req;
    req.set_from_seq(from);
    req.set_limit(limit <= 0 ? 1000 : std::min(1000, limit - seen));
    if (!absl::GetFlag(FLAGS_patient).empty()) {
      req.set_patient_id(absl::GetFlag(FLAGS_patient));
      req.set_clinic_id(absl::GetFlag(FLAGS_clinic));
    }
    grpc::ClientContext ctx;
    // --clinic names the patient's clinic here; operators have none.
    Decorate(&ctx, /*deadline=*/true, /*clinic_header=*/false);
    v1::ListAuditResponse resp;
    auto st = stub.ListAudit(&ctx, req, &resp);
    if (!st.ok()) return PrintRpcError(st);
    for (const auto& r : resp.records()) each(r);
    seen += resp.records_size();
    if (resp.records_size() == 0) break;
    from = resp.next_seq();
  }
  return 0;
}

int Audit(const std::shared_ptr<grpc::Channel>& channel,
          const std::vector<std::string>& a, bool json) {
  auto stub = v1::AuditService::NewStub(channel);
  const std::string sub = a.size() > 1 ? a[1] : "";
  if (sub == "verify") {
    grpc::ClientContext ctx;
    Decorate(&ctx);
    v1::VerifyAuditResponse resp;
    auto st = stub->VerifyAudit(&ctx, v1::VerifyAuditRequest(), &resp);
    if (!st.ok()) return PrintRpcError(st);
    if (json) return std::cout << JsonLine(resp) << "\n", 0;
    if (resp.intact()) {
      std::cout << "audit trail intact: " << resp.records() << " entries\n";
      return 0;
    }
    std::cout << "audit trail BROKEN after " << resp.records()
              << " entries: " << resp.problem() << "\n";
    return 1;
  }
  if (sub == "list") {
    return Walk(*stub, absl::GetFlag(FLAGS_from_seq),
                absl::GetFlag(FLAGS_limit), [&](const v1::AuditRecord& r) {
                  if (json) {
                    std::cout << JsonLine(r) << "\n";
                  } else {
                    PrintRecord(r);
                  }
                });
  }
  if (sub == "export" && a.size() > 2) {
    std::ofstream out(a[2]);
    if (!out) return UsageError("audit export: cannot write " + a[2]);
    int n = 0;
    const int rc = Walk(*stub, 1, 0, [&](const v1::AuditRecord& r) {
      out << JsonLine(r) << "\n";
      ++n;
    });
    if (rc == 0)
      std::cerr << "exported " << n << " entries to " << a[2] << "\n";
    return rc;
  }
  return UsageError("audit: list, export FILE or verify");
}

}  // namespace

int RunSecurity(const std::shared_ptr<grpc::Channel>& channel,
                const std::vector<std::string>& args, bool json) {
  return args[0] == "token" ? Tokens(channel, args, json)
                            : Audit(channel, args, json);
}

}  // namespace achilles::cli
