// The front door every RPC passes: authenticate, authorize, rate-limit,
// and audit.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/security/security.h"
#include "services/validation/validation.h"

namespace achilles::security {
namespace {

// The single value of a metadata key. INVALID_ARGUMENT when it appears more
// than once: two values invite two parts of the stack to read different
// ones.
absl::StatusOr<std::string> OneValue(const grpc::ServerContextBase& ctx,
                                     const std::string& key, bool* present) {
  const auto& md = ctx.client_metadata();
  const auto range = md.equal_range(key);
  *present = range.first != range.second;
  if (!*present) return std::string();
  if (std::next(range.first) != range.second) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, " metadata: sent more than once"));
  }
  return std::string(range.first->second.data(), range.first->second.size());
}

std::string CertCommonName(const grpc::ServerContextBase& ctx) {
  auto auth = ctx.auth_context();
  if (auth == nullptr) return "";
  const auto values = auth->FindPropertyValues("x509_common_name");
  if (values.empty()) return "";
  return std::string(values.front().data(), values.front().size());
}

absl::StatusOr<v1::Credential> Authenticate(
    const grpc::ServerContextBase& ctx, const CredentialStore& credentials) {
  bool present = false;
  auto header = OneValue(ctx, "authorization", &present);
  if (!header.ok()) return header.status();
  if (!present) {
    return absl::UnauthenticatedError(
        "no credentials: send 'authorization: Bearer <token>'");
  }
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWith(*header, kBearer)) {
    return absl::UnauthenticatedError(
        "authorization metadata must be 'Bearer <token>'");
  }
  return credentials.Verify(header->substr(kBearer.size()), NowMicros(),
                            CertCommonName(ctx));
}

Caller CallerOf(const v1::Credential& c, const grpc::ServerContextBase& ctx) {
  Caller caller;
  caller.subject = c.subject();
  caller.credential_id = c.credential_id();
  caller.clinic = c.clinic_id();
  for (int r : c.roles()) caller.roles |= Bit(static_cast<v1::Role>(r));
  caller.peer = ctx.peer();
  return caller;
}

// The clinic header may only confirm the credential's clinic.
absl::Status CheckClinicHeader(const grpc::ServerContextBase& ctx,
                               const Caller& caller) {
  bool present = false;
  auto clinic = OneValue(ctx, "x-clinic-id", &present);
  if (!clinic.ok()) return clinic.status();
  if (!present) return absl::OkStatus();
  if (auto st = validation::ValidateId("x-clinic-id metadata", *clinic);
      !st.ok()) {
    return st;
  }
  if (*clinic != caller.clinic) {
    return absl::PermissionDeniedError(absl::StrCat(
        "x-clinic-id '", *clinic, "' is not the clinic of this credential"));
  }
  return absl::OkStatus();
}

absl::Status Authorize(const Caller& caller, const MethodPolicy& method) {
  if ((caller.roles & method.roles) == 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("this credential's roles may not call ", method.name));
  }
  if (method.clinic_scoped && caller.clinic.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        method.name, " acts inside a clinic; this credential names none"));
  }
  return absl::OkStatus();
}

}  // namespace

bool RateLimiter::Allow(const std::string& key, int64_t now_us) {
  if (rate_ <= 0) return true;
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now_us});
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + (now_us - b.at_us) * rate_ / 1e6);
  b.at_us = now_us;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

absl::StatusOr<Caller> Gate::Admit(const grpc::ServerContextBase& ctx,
                                   const MethodPolicy& method) {
  auto credential = Authenticate(ctx, *credentials_);
  if (!credential.ok()) return credential.status();
  Caller caller = CallerOf(*credential, ctx);
  if (auto st = CheckClinicHeader(ctx, caller); !st.ok()) return st;
  if (auto st = AdmitAuthenticated(caller, method); !st.ok()) return st;
  return caller;
}

absl::Status Gate::AdmitAuthenticated(const Caller& caller,
                                      const MethodPolicy& method) {
  if (auto st = CheckServed(caller.clinic); !st.ok()) return st;
  if (auto st = Authorize(caller, method); !st.ok()) return st;
  const std::string bucket =
      caller.clinic.empty() ? "operator/" + caller.subject : caller.clinic;
  if (!limiter_.Allow(bucket, NowMicros())) {
    return absl::ResourceExhaustedError(
        "rate limit for this clinic exceeded; retry later");
  }
  return absl::OkStatus();
}

absl::Status Gate::CheckServed(const std::string& clinic) const {
  if (clinic.empty() || served_clinics_.empty() ||
      served_clinics_.contains(clinic)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("clinic '", clinic,
                   "' is not served by this shard (--serve_clinics); send "
                   "its calls through the clinic router"));
}

absl::Status Gate::Record(const grpc::ServerContextBase& ctx,
                          const MethodPolicy& method,
                          const absl::StatusOr<Caller>& caller,
                          const std::string& patient_id, absl::Status outcome) {
  return Record(ctx.peer(), method, caller, patient_id, std::move(outcome));
}

absl::Status Gate::Record(const std::string& peer, const MethodPolicy& method,
                          const absl::StatusOr<Caller>& caller,
                          const std::string& patient_id, absl::Status outcome) {
  if (caller.ok() && !method.audit_allowed) return outcome;
  v1::AuditRecord r;
  *r.mutable_at() = FromMicros(NowMicros());
  r.set_subject(caller.ok() ? caller->subject : "-");
  r.set_credential_id(caller.ok() ? caller->credential_id : "-");
  r.set_clinic_id(caller.ok() ? caller->clinic : "");
  r.set_peer(peer);
  r.set_method(method.name);
  // Only a patient inside the caller's own clinic gets a pseudonym: a
  // refused caller's claimed ids say nothing about real patients.
  if (caller.ok() && !patient_id.empty() && !caller->clinic.empty()) {
    r.set_patient_pseudonym(secret_->Pseudonym(caller->clinic, patient_id));
  }
  r.set_outcome(absl::StatusCodeToString(outcome.code()));
  // A call that succeeded waits until its entry is on disk before it is
  // answered. A failed or refused call does not: it returned no data and
  // changed nothing, and waiting would hold gRPC's few admission threads on
  // an fsync (or the 2 s bound on a full disk) exactly when the server is
  // flooded or saturated. Its entry is still written, in order, with the
  // next group.
  const bool wait = outcome.ok();
  if (auto st = audit_->Append(std::move(r), wait); !st.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the call could not be audited: ", st.message()));
  }
  return outcome;
}

}  // namespace achilles::security
