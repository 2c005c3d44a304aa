#include "services/ehr/internal/jwt_trust.h"

#include <jwt.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/ehr/internal/fhir_fetch.h"
#include "services/ehr/internal/json_util.h"
#include "services/ehr/internal/jwks.h"
#include "services/security/roles.h"

namespace achilles::ehr_internal {
namespace {

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("CDS Hooks JWT: ", why));
}

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": cannot read ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

absl::StatusOr<std::vector<IssuerKey>> LoadKeys(const Json& keys,
                                                const std::string& field,
                                                const std::string& dir) {
  if (!keys.is_array() || keys.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": a non-empty array of {kid, pem_file} (or give jwks_file)"));
  }
  std::vector<IssuerKey> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    auto file = StringMember(keys[i], "pem_file");
    if (!file || file->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".pem_file: missing"));
    }
    const std::string path = (*file)[0] == '/' ? *file : dir + "/" + *file;
    auto pem = ReadFile(path, f + ".pem_file");
    if (!pem.ok()) return pem.status();
    out.push_back({StringMember(keys[i], "kid").value_or(""), *pem});
  }
  return out;
}

absl::Status LoadFhirServers(const Json& j, const std::string& f,
                             TrustedIssuer* t) {
  const Json* servers = Member(j, "fhir_servers");
  if (servers == nullptr) return absl::OkStatus();
  if (!servers->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(f, ".fhir_servers: an array of base URLs"));
  }
  for (const auto& s : *servers) {
    std::string url = s.is_string() ? s.get<std::string>() : "";
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (auto st = CheckFhirServerUrl(url, /*allow_http=*/true); !st.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".fhir_servers: '", url, "': ", st.message()));
    }
    t->fhir_servers.push_back(url);
  }
  return absl::OkStatus();
}

absl::StatusOr<TrustedIssuer> LoadIssuer(const Json& j, const std::string& f,
                                         const std::string& dir,
                                         const FhirFetchOptions& outbound) {
  TrustedIssuer t;
  t.iss = StringMember(j, "iss").value_or("");
  t.clinic = StringMember(j, "clinic").value_or("");
  if (t.iss.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(f, ".iss: missing"));
  }
  if (t.clinic.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(f, ".clinic: missing"));
  }
  const Json* roles = Member(j, "roles");
  if (roles == nullptr || !roles->is_array() || roles->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(f, ".roles: a non-empty array such as [\"ehr\"]"));
  }
  for (const auto& r : *roles) {
    auto role = security::ParseRole(r.is_string() ? r.get<std::string>() : "");
    if (!role.ok() || *role == v1::ROLE_OPERATOR) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".roles: each is ehr, clinician or clinic-admin"));
    }
    t.roles |= security::Bit(*role);
  }
  if (auto st = LoadFhirServers(j, f, &t); !st.ok()) return st;
  const Json* keys = Member(j, "keys");
  auto jwks = StringMember(j, "jwks_file");
  auto url = StringMember(j, "jwks_url");
  if ((keys != nullptr) + jwks.has_value() + url.has_value() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        f, ": give the issuer's keys one way: keys, jwks_file or jwks_url"));
  }
  if (url) {
    if (auto st =
            CheckFhirServerUrl(*url, outbound.allow_http, f + ".jwks_url");
        !st.ok()) {
      return st;
    }
    t.jwks_url = *url;
    return t;
  }
  if (jwks && keys == nullptr) {
    const std::string path = (*jwks)[0] == '/' ? *jwks : dir + "/" + *jwks;
    auto text = ReadFile(path, f + ".jwks_file");
    if (!text.ok()) return text.status();
    auto loaded = KeysFromJwks(*text, f + ".jwks_file");
    if (!loaded.ok()) return loaded.status();
    t.keys = *std::move(loaded);
    return t;
  }
  auto loaded = LoadKeys(keys ? *keys : Json(), f + ".keys", dir);
  if (!loaded.ok()) return loaded.status();
  t.keys = *std::move(loaded);
  return t;
}

// Header and claims read before the signature is checked, only to choose
// the key; the verified values are read again from libjwt's result.
absl::StatusOr<Json> UnverifiedPart(const std::string& token, int part) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Unauthenticated("not a signed JWT");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(parts[part], &raw)) {
    return Unauthenticated("undecodable base64url");
  }
  Json j = ParseJson(raw);
  if (!j.is_object()) return Unauthenticated("header or claims not JSON");
  return j;
}

bool AudienceMatches(const Json& aud, const std::vector<std::string>& ok) {
  auto one = [&](const Json& a) {
    return a.is_string() &&
           std::find(ok.begin(), ok.end(), a.get<std::string>()) != ok.end();
  };
  if (aud.is_array()) return std::any_of(aud.begin(), aud.end(), one);
  return one(aud);
}

// The verified claims, or why the signature does not hold.
absl::StatusOr<Json> VerifiedClaims(const std::string& token,
                                    const std::vector<IssuerKey>& keys,
                                    const std::string& kid) {
  for (const IssuerKey& key : keys) {
    if (!kid.empty() && !key.kid.empty() && key.kid != kid) continue;
    jwt_t* jwt = nullptr;
    const int rc =
        jwt_decode(&jwt, token.c_str(),
                   reinterpret_cast<const unsigned char*>(key.pem.data()),
                   static_cast<int>(key.pem.size()));
    if (rc != 0 || jwt == nullptr) continue;
    const jwt_alg_t alg = jwt_get_alg(jwt);
    char* grants = jwt_get_grants_json(jwt, nullptr);
    Json claims = grants ? ParseJson(grants) : Json();
    free(grants);
    jwt_free(jwt);
    if (alg != JWT_ALG_ES384 && alg != JWT_ALG_RS384) {
      return Unauthenticated("alg must be ES384 or RS384");
    }
    if (claims.is_object()) return claims;
  }
  return Unauthenticated("signature does not verify under the issuer's keys");
}

absl::Status CheckTimes(const Json& c, int64_t now, int64_t* exp_out) {
  auto exp = IntMember(c, "exp");
  auto iat = IntMember(c, "iat");
  if (!exp) return Unauthenticated("exp: missing or not a number");
  if (!iat) return Unauthenticated("iat: missing or not a number");
  if (*exp + JwtTrust::kSkewSeconds < now) return Unauthenticated("expired");
  if (*iat > now + JwtTrust::kSkewSeconds) {
    return Unauthenticated("iat: issued in the future");
  }
  if (*exp - *iat > JwtTrust::kMaxLifetimeSeconds) {
    return Unauthenticated("exp - iat: lifetime over an hour");
  }
  *exp_out = *exp;
  return absl::OkStatus();
}

// The issuer's key server could not be reached or gave no keys: the
// server's trouble, not the caller's (503, not 401).
absl::Status KeysUnavailable(absl::string_view why) {
  return absl::UnavailableError(
      absl::StrCat("the issuer's keys are unavailable (", why, ")"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<JwtTrust>> JwtTrust::Load(
    const std::string& path, const FhirFetchOptions& outbound) {
  auto text = ReadFile(path, "--ehr_trust_file");
  if (!text.ok()) return text.status();
  Json j = ParseJson(*text);
  const Json* issuers = Member(j, "issuers");
  if (issuers == nullptr || !issuers->is_array() || issuers->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": issuers: a non-empty array of trusted issuers"));
  }
  std::vector<TrustedIssuer> out;
  for (size_t i = 0; i < issuers->size(); ++i) {
    auto t = LoadIssuer((*issuers)[i], absl::StrCat(path, ": issuers[", i, "]"),
                        Dir(path), outbound);
    if (!t.ok()) return t.status();
    out.push_back(*std::move(t));
  }
  return FromIssuers(std::move(out), outbound);
}

std::unique_ptr<JwtTrust> JwtTrust::FromIssuers(
    std::vector<TrustedIssuer> issuers, const FhirFetchOptions& outbound) {
  FhirFetchOptions o = outbound;
  o.timeout_seconds = kJwksTimeoutSeconds;
  o.max_bytes = kMaxJwksBytes;
  return std::unique_ptr<JwtTrust>(new JwtTrust(std::move(issuers), o));
}

absl::StatusOr<std::vector<IssuerKey>> JwtTrust::KeysOf(
    const TrustedIssuer& issuer, const std::string& kid, int64_t now) {
  if (issuer.jwks_url.empty()) return issuer.keys;
  {
    absl::MutexLock lock(&keys_mu_);
    CachedKeys& c = key_cache_[issuer.iss];
    if (c.fetched_at > 0 && now - c.fetched_at >= kJwksMaxStaleSeconds) {
      c.keys.clear();
    }
    const bool known = kid.empty() || std::any_of(c.keys.begin(), c.keys.end(),
                                                  [&](const IssuerKey& k) {
                                                    return k.kid == kid;
                                                  });
    const bool fresh =
        c.fetched_at > 0 && now - c.fetched_at < kJwksCacheSeconds;
    // A key rotated in early is looked for again, but not on every token,
    // and never by two calls at once.
    if (fresh && known) return c.keys;
    if (c.fetching || now - c.tried_at < kJwksRetrySeconds) {
      if (c.keys.empty()) return KeysUnavailable("retry shortly");
      return c.keys;
    }
    c.tried_at = now;
    c.fetching = true;
  }
  // Outside the lock: a slow key server delays only the calls that need
  // this fetch, never another issuer's (or a known key's) logins.
  auto text = FetchDocument(issuer.jwks_url, outbound_, "jwks_url");
  auto keys = text.ok() ? KeysFromJwks(*text, "jwks_url") : text.status();
  absl::MutexLock lock(&keys_mu_);
  CachedKeys& c = key_cache_[issuer.iss];
  c.fetching = false;
  if (keys.ok()) {
    c.keys = *std::move(keys);
    c.fetched_at = now;
  }
  // A failed refresh keeps the keys already known (until they go stale).
  if (c.keys.empty()) {
    return KeysUnavailable(keys.ok() ? "the key set is empty"
                                     : keys.status().message());
  }
  return c.keys;
}

bool JwtTrust::AllowsFhirServer(const security::Caller& caller,
                                const std::string& fhir_server) const {
  if (!absl::StartsWith(caller.credential_id, "jwt:")) return false;
  const TrustedIssuer* issuer = Find(caller.credential_id.substr(4));
  return issuer != nullptr &&
         std::find(issuer->fhir_servers.begin(), issuer->fhir_servers.end(),
                   fhir_server) != issuer->fhir_servers.end();
}

const TrustedIssuer* JwtTrust::Find(const std::string& iss) const {
  for (const auto& t : issuers_) {
    if (t.iss == iss) return &t;
  }
  return nullptr;
}

absl::Status JwtTrust::Remember(const std::string& iss, const std::string& jti,
                                int64_t exp, int64_t now) {
  absl::MutexLock lock(&mu_);
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = it->second + kSkewSeconds < now ? seen_.erase(it) : std::next(it);
  }
  if (!seen_.emplace(std::make_pair(iss, jti), exp).second) {
    return Unauthenticated("jti: this token was already used");
  }
  if (seen_.size() > kMaxRememberedJti) {
    seen_.erase({iss, jti});
    return absl::ResourceExhaustedError(
        "too many live CDS Hooks tokens to remember; retry shortly");
  }
  return absl::OkStatus();
}

absl::StatusOr<security::Caller> JwtTrust::Verify(
    const std::string& token, const std::vector<std::string>& audiences,
    int64_t now) {
  auto header = UnverifiedPart(token, 0);
  if (!header.ok()) return header.status();
  auto unverified = UnverifiedPart(token, 1);
  if (!unverified.ok()) return unverified.status();
  const std::string alg = StringMember(*header, "alg").value_or("");
  if (alg != "ES384" && alg != "RS384") {
    return Unauthenticated("alg must be ES384 or RS384");
  }
  const TrustedIssuer* issuer =
      Find(StringMember(*unverified, "iss").value_or(""));
  if (issuer == nullptr) return Unauthenticated("iss: not a trusted issuer");
  const std::string kid = StringMember(*header, "kid").value_or("");
  // jku is only ever the URL the trust file names; a token cannot make the
  // server fetch keys from anywhere else.
  if (auto jku = StringMember(*header, "jku");
      jku && !issuer->jwks_url.empty() && *jku != issuer->jwks_url) {
    return Unauthenticated("jku: not the issuer's jwks_url in the trust file");
  }
  auto keys = KeysOf(*issuer, kid, now);
  if (!keys.ok()) return keys.status();
  auto claims = VerifiedClaims(token, *keys, kid);
  if (!claims.ok()) return claims.status();
  if (StringMember(*claims, "iss").value_or("") != issuer->iss) {
    return Unauthenticated("iss: changed");
  }
  const Json* aud = Member(*claims, "aud");
  if (aud == nullptr || !AudienceMatches(*aud, audiences)) {
    return Unauthenticated("aud: not this service's URL");
  }
  int64_t exp = 0;
  if (auto st = CheckTimes(*claims, now, &exp); !st.ok()) return st;
  const std::string jti = StringMember(*claims, "jti").value_or("");
  const std::string sub = StringMember(*claims, "sub").value_or("");
  if (jti.empty()) return Unauthenticated("jti: missing");
  if (sub.empty()) return Unauthenticated("sub: missing");
  if (auto st = Remember(issuer->iss, jti, exp, now); !st.ok()) return st;
  security::Caller caller;
  caller.subject = absl::StrCat(issuer->iss, " ", sub);
  caller.credential_id = "jwt:" + issuer->iss;
  caller.clinic = issuer->clinic;
  caller.roles = issuer->roles;
  return caller;
}

}  // namespace achilles::ehr_internal
