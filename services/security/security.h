// The trust boundary: who is calling (credentials), what they may call
// (the method table), and the record of every call (the audit trail).
//
//   Gate::Admit      bearer token -> Caller (subject, clinic, roles), checked
//                    against the method's roles and the clinic header, and
//                    the clinic's rate limit. UNAUTHENTICATED without a valid
//                    token; PERMISSION_DENIED for the wrong role or clinic;
//                    RESOURCE_EXHAUSTED over the rate limit.
//   Gate::Record     one audit entry per call, allowed or refused: who, from
//                    where, which RPC, which patient (keyed pseudonym), when
//                    and the outcome; synced before the call returns.
//   CredentialStore  tokens "ach1.<id>.<secret>": the secret is stored only
//                    as SHA-256; issue, revoke, list; an in-memory index so
//                    verification costs no disk read.
//   AuditLog         append-only, hash-chained with an HMAC under the
//                    server secret, written by one thread in synced groups.
//
// The clinic of every call comes from the caller's credential, never from
// the request. Thread-safety: every class here is safe for concurrent use.
#ifndef ACHILLES_SERVICES_SECURITY_SECURITY_H_
#define ACHILLES_SERVICES_SECURITY_SECURITY_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "achilles/v1/security_service.pb.h"
#include "common/digest.h"
#include "services/security/roles.h"
#include "storage/timeline_store.h"

namespace achilles::security {

// Bit set of v1::Role values.
using RoleSet = uint32_t;
constexpr RoleSet Bit(v1::Role r) { return RoleSet{1} << r; }
constexpr RoleSet kAnyRole = Bit(v1::ROLE_EHR) | Bit(v1::ROLE_CLINICIAN) |
                             Bit(v1::ROLE_CLINIC_ADMIN) |
                             Bit(v1::ROLE_OPERATOR);

// What an RPC requires. Every method of every achilles.v1 service has one
// (a test checks the table against the service descriptors).
struct MethodPolicy {
  const char* name;  // "achilles.v1.PatientService/GetPatient"
  RoleSet roles;     // Any one of these roles is enough.
  // True: the call acts inside the caller's clinic (patient data, clinic
  // policy), so the credential must name a clinic.
  bool clinic_scoped;
  // False for calls not worth an audit entry when allowed (Ping); refusals
  // are always recorded.
  bool audit_allowed;
};

// NOT_FOUND-free lookup: nullptr for a method not in the table (the caller
// refuses such calls).
const MethodPolicy* FindMethod(const std::string& full_name);
const std::vector<MethodPolicy>& MethodTable();

struct Caller {
  std::string subject;
  std::string credential_id;
  std::string clinic;  // Empty for operators.
  RoleSet roles = 0;
  std::string peer;
  bool Has(v1::Role r) const { return (roles & Bit(r)) != 0; }
};

// 32 random bytes kept in <data_dir>/server.secret (mode 0600), created on
// first start. Keys the patient pseudonyms and the audit chain.
class ServerSecret {
 public:
  // INTERNAL naming the path when it cannot be read or created, or has the
  // wrong size or permissions wider than 0600.
  static absl::StatusOr<ServerSecret> LoadOrCreate(const std::string& path);
  std::string Hmac(const std::string& data) const;
  // Keyed pseudonym of a patient: stable for the server, useless without
  // the secret, never the id.
  std::string Pseudonym(const std::string& clinic,
                        const std::string& patient_id) const;

 private:
  explicit ServerSecret(std::string key) : hmac_(key) {}
  HmacSha256Key hmac_;
};

class CredentialStore {
 public:
  // Loads every credential into memory.
  static absl::StatusOr<std::unique_ptr<CredentialStore>> Open(
      storage::TimelineStore* store);

  // INVALID_ARGUMENT naming the field for a bad request (unknown role,
  // operator mixed with clinic roles, missing clinic). Returns the record
  // and the token, which is shown once.
  absl::StatusOr<v1::IssueTokenResponse> Issue(
      const v1::IssueTokenRequest& request, const std::string& created_by,
      int64_t now_us);
  // NOT_FOUND for an unknown id. Revoking twice keeps the first time.
  absl::StatusOr<v1::Credential> Revoke(const std::string& credential_id,
                                        int64_t now_us);
  std::vector<v1::Credential> List() const;  // Without secrets.
  // The credential the token names, if it is valid now and (when bound)
  // presented with the right client certificate. UNAUTHENTICATED with a
  // reason that never echoes the token.
  absl::StatusOr<v1::Credential> Verify(const std::string& token,
                                        int64_t now_us,
                                        const std::string& cert_cn) const;
  bool empty() const;

 private:
  explicit CredentialStore(storage::TimelineStore* store) : store_(store) {}
  storage::TimelineStore* store_;
  mutable absl::Mutex mu_;
  std::map<std::string, v1::Credential> by_id_ ABSL_GUARDED_BY(mu_);
};

class AuditLog {
 public:
  // Reads the last entry to continue the chain.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(
      storage::TimelineStore* store, const ServerSecret* secret);
  ~AuditLog();

  // Chains the record (fills seq, prev_hash, hash) and, when `wait`, waits
  // until it is synced with the group it was written in. An error means
  // the entry may not be durable; callers fail the request rather than
  // serve unaudited. Without `wait` the entry is queued and written in
  // order with the next group (the chain is the same either way).
  absl::Status Append(v1::AuditRecord record, bool wait = true);

  absl::StatusOr<v1::ListAuditResponse> List(uint64_t from_seq, int limit,
                                             const std::string& pseudonym);
  // Recomputes every link.
  absl::StatusOr<v1::VerifyAuditResponse> Verify();

 private:
  AuditLog(storage::TimelineStore* store, const ServerSecret* secret)
      : store_(store), secret_(secret) {}
  void WriterLoop();
  // Waits (at most the append bound) until every entry appended so far is
  // written: entries of refused calls are queued without waiting, and a
  // listing must include them.
  void AwaitWritten();
  std::string Link(const std::string& prev, const v1::AuditRecord& r) const;

  storage::TimelineStore* store_;
  const ServerSecret* secret_;
  std::mutex mu_;
  std::condition_variable wake_writer_, wake_callers_;
  std::vector<std::pair<uint64_t, std::string>> pending_;  // Under mu_.
  uint64_t next_seq_ = 1;                                  // Under mu_.
  std::string last_hash_;                                  // Under mu_.
  uint64_t durable_seq_ = 0;  // Under mu_: every seq <= this is synced.
  absl::Status write_error_;  // Under mu_: sticky until a write succeeds.
  // Under mu_: entries below this seq were waiting when a write failed.
  // Their calls' data was written unsynced and covered by that failed
  // fsync (storage::Durability), so a later successful retry of the
  // entries proves nothing about the data: those calls fail.
  uint64_t failed_below_seq_ = 0;
  absl::Status failed_with_;  // Under mu_: the last failed write's error.
  bool stop_ = false;         // Under mu_.
  std::thread writer_;
};

// Per-clinic token bucket.
class RateLimiter {
 public:
  // `per_second` <= 0 disables the limit.
  RateLimiter(double per_second, double burst)
      : rate_(per_second), burst_(burst) {}
  bool Allow(const std::string& key, int64_t now_us);

 private:
  struct Bucket {
    double tokens;
    int64_t at_us;
  };
  const double rate_, burst_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

struct GateOptions {
  double clinic_requests_per_second = 1000;
  double clinic_burst = 2000;
  // The clinics this server (one shard of a clinic chain) serves; empty =
  // every clinic. A credential of another clinic is refused before its call
  // runs, so a routing mistake can never write a clinic's data to a second
  // shard (deploy/haproxy/README.md).
  std::vector<std::string> served_clinics;
};

class Gate {
 public:
  Gate(CredentialStore* credentials, AuditLog* audit,
       const ServerSecret* secret, const GateOptions& options)
      : credentials_(credentials),
        audit_(audit),
        secret_(secret),
        limiter_(options.clinic_requests_per_second, options.clinic_burst),
        served_clinics_(options.served_clinics.begin(),
                        options.served_clinics.end()) {}

  absl::StatusOr<Caller> Admit(const grpc::ServerContextBase& context,
                               const MethodPolicy& method);
  // For a caller another transport authenticated (services/ehr: HTTPS with
  // a signed JWT or a bearer token): the same role, clinic and rate-limit
  // checks as Admit, with the same errors.
  absl::Status AdmitAuthenticated(const Caller& caller,
                                  const MethodPolicy& method);
  // Writes the audit entry for a finished (or refused) call. Returns the
  // status to send: `outcome`, or UNAVAILABLE when the entry could not be
  // made durable.
  absl::Status Record(const grpc::ServerContextBase& context,
                      const MethodPolicy& method,
                      const absl::StatusOr<Caller>& caller,
                      const std::string& patient_id, absl::Status outcome);
  // Record for another transport: `peer` as that transport names it.
  absl::Status Record(const std::string& peer, const MethodPolicy& method,
                      const absl::StatusOr<Caller>& caller,
                      const std::string& patient_id, absl::Status outcome);

  CredentialStore* credentials() { return credentials_; }
  AuditLog* audit() { return audit_; }
  const ServerSecret* secret() const { return secret_; }
  // FAILED_PRECONDITION naming the clinic when this shard does not serve
  // it (GateOptions::served_clinics); OK for "" (operators).
  absl::Status CheckServed(const std::string& clinic) const;

 private:
  CredentialStore* credentials_;
  AuditLog* audit_;
  const ServerSecret* secret_;
  RateLimiter limiter_;
  const absl::flat_hash_set<std::string> served_clinics_;
};

}  // namespace achilles::security

#endif  // ACHILLES_SERVICES_SECURITY_SECURITY_H_
