// Server secret and bearer-token credentials.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"
#include "common/time_util.h"
#include "services/security/security.h"
#include "services/validation/validation.h"

namespace achilles::security {
namespace {

constexpr size_t kSecretBytes = 32;
constexpr char kTokenPrefix[] = "ach1";
constexpr char kRecordPrefix[] = "credential/";

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::StatusOr<std::string> ReadSecret(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Errno("cannot stat", path);
  if ((st.st_mode & 077) != 0) {
    return absl::InternalError(
        absl::StrCat(path, " is readable by others (mode ", st.st_mode & 0777,
                     "); it must be 0600"));
  }
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::string key(kSecretBytes + 1, '\0');
  const ssize_t n = read(fd, key.data(), key.size());
  close(fd);
  if (n != static_cast<ssize_t>(kSecretBytes)) {
    return absl::InternalError(
        absl::StrCat(path, " does not hold a ", kSecretBytes, "-byte secret"));
  }
  key.resize(kSecretBytes);
  return key;
}

// A new file's name is durable only once its directory is synced: without
// this, a power cut can leave the store (synced) without its secret, and
// the next start would key pseudonyms and the audit chain anew.
absl::Status SyncParentDir(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, slash);
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", dir);
  const bool ok = fsync(fd) == 0;
  close(fd);
  return ok ? absl::OkStatus() : Errno("cannot sync", dir);
}

absl::StatusOr<std::string> CreateSecret(const std::string& path) {
  auto key = SecureRandomBytes(kSecretBytes);
  if (!key.ok()) return key.status();
  // O_EXCL: two servers racing on one data dir never end up with two keys.
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", path);
  const bool ok = write(fd, key->data(), key->size()) ==
                      static_cast<ssize_t>(key->size()) &&
                  fsync(fd) == 0;
  close(fd);
  if (!ok) return Errno("cannot write", path);
  if (auto st = SyncParentDir(path); !st.ok()) return st;
  return key;
}

std::string RecordKey(const std::string& id) {
  return absl::StrCat(kRecordPrefix, id);
}

absl::Status CheckIssue(const v1::IssueTokenRequest& r) {
  if (r.subject().empty() || r.subject().size() > 128 ||
      !validation::IsValidUtf8(r.subject())) {
    return absl::InvalidArgumentError(
        "subject: must be 1-128 characters of UTF-8");
  }
  if (r.roles().empty()) {
    return absl::InvalidArgumentError("roles: at least one role is required");
  }
  bool op = false, clinic_role = false;
  for (int role : r.roles()) {
    if (!v1::Role_IsValid(role) || role == v1::ROLE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("roles: ", role, " is not a role"));
    }
    (role == v1::ROLE_OPERATOR ? op : clinic_role) = true;
  }
  if (op && (clinic_role || !r.clinic_id().empty())) {
    return absl::InvalidArgumentError(
        "roles: an operator credential names no clinic and no clinic role");
  }
  if (!op) {
    if (auto st = validation::ValidateId("clinic_id", r.clinic_id());
        !st.ok()) {
      return st;
    }
  }
  if (r.valid_days() < 0 || r.valid_days() > 3650) {
    return absl::InvalidArgumentError("valid_days: must be 0-3650");
  }
  if (r.bound_cert_cn().size() > 256) {
    return absl::InvalidArgumentError("bound_cert_cn: at most 256 characters");
  }
  return absl::OkStatus();
}

v1::Credential Public(v1::Credential c) {
  c.clear_secret_sha256();
  return c;
}

}  // namespace

absl::StatusOr<ServerSecret> ServerSecret::LoadOrCreate(
    const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) {
    auto key = ReadSecret(path);
    if (!key.ok()) return key.status();
    return ServerSecret(*std::move(key));
  }
  auto key = CreateSecret(path);
  if (!key.ok()) return key.status();
  return ServerSecret(*std::move(key));
}

std::string ServerSecret::Hmac(const std::string& data) const {
  return hmac_.Hex(data);
}

std::string ServerSecret::Pseudonym(const std::string& clinic,
                                    const std::string& patient_id) const {
  const absl::string_view nul("\0", 1);
  return Hmac(absl::StrCat("patient", nul, clinic, nul, patient_id))
      .substr(0, 32);
}

absl::StatusOr<std::unique_ptr<CredentialStore>> CredentialStore::Open(
    storage::TimelineStore* store) {
  std::unique_ptr<CredentialStore> out(new CredentialStore(store));
  auto records = store->ListServerRecords(kRecordPrefix);
  if (!records.ok()) return records.status();
  absl::MutexLock lock(&out->mu_);
  for (const auto& [key, value] : *records) {
    v1::Credential c;
    if (!c.ParseFromString(value)) {
      return absl::DataLossError(
          absl::StrCat("stored credential ", key, " does not parse"));
    }
    out->by_id_[c.credential_id()] = std::move(c);
  }
  return out;
}

absl::StatusOr<v1::IssueTokenResponse> CredentialStore::Issue(
    const v1::IssueTokenRequest& request, const std::string& created_by,
    int64_t now_us) {
  if (auto st = CheckIssue(request); !st.ok()) return st;
  auto id = SecureRandomBytes(8);
  auto secret = SecureRandomBytes(32);
  if (!id.ok()) return id.status();
  if (!secret.ok()) return secret.status();
  v1::Credential c;
  c.set_credential_id(absl::BytesToHexString(*id));
  c.set_subject(request.subject());
  c.set_clinic_id(request.clinic_id());
  for (int role : request.roles()) c.add_roles(static_cast<v1::Role>(role));
  *c.mutable_created_at() = FromMicros(now_us);
  if (request.valid_days() > 0) {
    *c.mutable_expires_at() =
        FromMicros(now_us + request.valid_days() * kMicrosPerDay);
  }
  c.set_created_by(created_by);
  c.set_bound_cert_cn(request.bound_cert_cn());
  const std::string secret_hex = absl::BytesToHexString(*secret);
  c.set_secret_sha256(Sha256Hex(secret_hex));
  if (auto st = store_->PutServerRecord(RecordKey(c.credential_id()),
                                        c.SerializeAsString());
      !st.ok()) {
    return st;
  }
  {
    absl::MutexLock lock(&mu_);
    by_id_[c.credential_id()] = c;
  }
  v1::IssueTokenResponse out;
  out.set_token(
      absl::StrCat(kTokenPrefix, ".", c.credential_id(), ".", secret_hex));
  *out.mutable_credential() = Public(std::move(c));
  return out;
}

absl::StatusOr<v1::Credential> CredentialStore::Revoke(
    const std::string& credential_id, int64_t now_us) {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(credential_id);
  if (it == by_id_.end()) {
    return absl::NotFoundError(
        absl::StrCat("credential '", credential_id, "' not found"));
  }
  v1::Credential c = it->second;
  if (!c.has_revoked_at()) *c.mutable_revoked_at() = FromMicros(now_us);
  if (auto st = store_->PutServerRecord(RecordKey(credential_id),
                                        c.SerializeAsString());
      !st.ok()) {
    return st;
  }
  it->second = c;
  return Public(std::move(c));
}

std::vector<v1::Credential> CredentialStore::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Credential> out;
  for (const auto& [id, c] : by_id_) out.push_back(Public(c));
  return out;
}

bool CredentialStore::empty() const {
  absl::MutexLock lock(&mu_);
  return by_id_.empty();
}

absl::StatusOr<v1::Credential> CredentialStore::Verify(
    const std::string& token, int64_t now_us,
    const std::string& cert_cn) const {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0] != kTokenPrefix) {
    return absl::UnauthenticatedError("bearer token is not an achilles token");
  }
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(parts[1]);
  // The same answer for an unknown id and a wrong secret: no oracle.
  if (it == by_id_.end() ||
      !ConstantTimeEquals(Sha256Hex(parts[2]), it->second.secret_sha256())) {
    return absl::UnauthenticatedError("bearer token is not valid");
  }
  const v1::Credential& c = it->second;
  if (c.has_revoked_at()) {
    return absl::UnauthenticatedError("bearer token has been revoked");
  }
  if (c.has_expires_at() && ToMicros(c.expires_at()) <= now_us) {
    return absl::UnauthenticatedError("bearer token has expired");
  }
  if (!c.bound_cert_cn().empty() && c.bound_cert_cn() != cert_cn) {
    return absl::UnauthenticatedError(
        "bearer token is bound to a client certificate that was not "
        "presented");
  }
  return c;
}

}  // namespace achilles::security
