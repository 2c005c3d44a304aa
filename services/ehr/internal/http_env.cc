#include "services/ehr/internal/http_env.h"

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/ehr/internal/json_util.h"

namespace achilles::ehr_internal {
namespace {

constexpr char kHttp412[] = "achilles.http";

security::Caller CallerOf(const v1::Credential& c) {
  security::Caller caller;
  caller.subject = c.subject();
  caller.credential_id = c.credential_id();
  caller.clinic = c.clinic_id();
  for (int r : c.roles()) {
    caller.roles |= security::Bit(static_cast<v1::Role>(r));
  }
  return caller;
}

std::string Peer(const httplib::Request& req) {
  return absl::StrCat("https:", req.remote_addr, ":", req.remote_port);
}

}  // namespace

absl::Status PreconditionFailed(const std::string& message) {
  absl::Status st = absl::FailedPreconditionError(message);
  st.SetPayload(kHttp412, absl::Cord("412"));
  return st;
}

int HttpStatusOf(const absl::Status& st) {
  if (st.GetPayload(kHttp412).has_value()) return 412;
  switch (st.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

void AddCors(httplib::Response& res) {
  res.set_header("Access-Control-Allow-Origin", "*");
  res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  res.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization");
}

void SendJson(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

void SendError(httplib::Response& res, const absl::Status& st) {
  OJson body;
  body["error"] = std::string(st.message());
  const int status = HttpStatusOf(st);
  if (status == 401) {
    res.set_header("WWW-Authenticate", "Bearer");
  }
  SendJson(res, status, Dump(body));
}

absl::StatusOr<security::Caller> Authenticate(HttpEnv& env,
                                              const httplib::Request& req) {
  if (req.get_header_value_count("Authorization") > 1) {
    return absl::InvalidArgumentError("Authorization: sent more than once");
  }
  const std::string header = req.get_header_value("Authorization");
  if (header.empty()) {
    return absl::UnauthenticatedError(
        "no credentials: send 'Authorization: Bearer <JWT or token>'");
  }
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWith(header, kBearer)) {
    return absl::UnauthenticatedError("Authorization must be 'Bearer ...'");
  }
  const std::string token = header.substr(kBearer.size());
  security::Caller caller;
  if (absl::StartsWith(token, "ach1.")) {
    auto cred = env.backend->gate->credentials()->Verify(token, NowMicros(),
                                                         /*cert_cn=*/"");
    if (!cred.ok()) return cred.status();
    caller = CallerOf(*cred);
  } else {
    if (env.trust == nullptr) {
      return absl::UnauthenticatedError(
          "JWT presented but no issuer is trusted (--ehr_trust_file)");
    }
    const std::string path = req.path;
    std::vector<std::string> audiences = {env.public_url + path,
                                          env.public_url + "/cds-services"};
    if (absl::EndsWith(path, "/feedback")) {
      audiences.push_back(env.public_url +
                          path.substr(0, path.size() - strlen("/feedback")));
    }
    auto verified = env.trust->Verify(token, audiences, NowMicros() / 1000000);
    if (!verified.ok()) return verified.status();
    caller = *std::move(verified);
  }
  caller.peer = Peer(req);
  return caller;
}

void Serve(HttpEnv& env, const httplib::Request& req, httplib::Response& res,
           const security::MethodPolicy& method, const Work& work) {
  AddCors(res);
  absl::StatusOr<security::Caller> admitted = Authenticate(env, req);
  if (admitted.ok()) {
    if (auto st = env.backend->gate->AdmitAuthenticated(*admitted, method);
        !st.ok()) {
      admitted = st;  // Audited as refused, like a gRPC call.
    }
  }
  absl::Status outcome = admitted.status();
  std::string patient_id;
  if (admitted.ok()) outcome = work(*admitted, &patient_id);
  absl::Status sent = env.backend->gate->Record(Peer(req), method, admitted,
                                                patient_id, outcome);
  // A handler may have answered its error in detail already (a refused
  // bundle lists every resource); the audit's own failure always wins.
  if (!sent.ok() && (res.body.empty() || sent.code() != outcome.code())) {
    SendError(res, sent);
  }
}

}  // namespace achilles::ehr_internal
