// A CDS client for tests: HTTPS to a real server's EHR listener (the test
// CA verifies it) and CDS Hooks JWTs signed with libjwt, as an EHR would.
#ifndef ACHILLES_TESTS_EHR_EHR_CLIENT_H_
#define ACHILLES_TESTS_EHR_EHR_CLIENT_H_

#include <httplib.h>
#include <jwt.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace achilles::testing {

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `cmd` with sh; its stdout (stderr merged when `merge`), exit status
// in *status.
inline std::string RunCommand(const std::string& cmd, int* status,
                              bool merge = true) {
  std::string out;
  FILE* p = popen((cmd + (merge ? " 2>&1" : "")).c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  if (status != nullptr) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

struct JwtClaims {
  std::string iss = "https://ehr.test";
  std::string sub = "ehr-client";
  std::string aud;  // The service URL.
  std::string jti;
  int64_t iat = 0;  // 0 = now.
  int64_t lifetime = 300;
  std::string kid = "k1";
  std::string jku;  // Header jku when set.
};

// An RS384 JWT under the PEM private key `key_pem`.
inline std::string SignJwt(const JwtClaims& c, const std::string& key_pem) {
  static int counter = 0;
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  const int64_t now = c.iat != 0 ? c.iat : absl::ToUnixSeconds(absl::Now());
  jwt_add_grant(jwt, "iss", c.iss.c_str());
  jwt_add_grant(jwt, "sub", c.sub.c_str());
  jwt_add_grant(jwt, "aud", c.aud.c_str());
  const std::string jti = c.jti.empty() ? "jti-" + std::to_string(now) + "-" +
                                              std::to_string(++counter)
                                        : c.jti;
  jwt_add_grant(jwt, "jti", jti.c_str());
  jwt_add_grant_int(jwt, "iat", now);
  jwt_add_grant_int(jwt, "exp", now + c.lifetime);
  if (!c.kid.empty()) jwt_add_header(jwt, "kid", c.kid.c_str());
  if (!c.jku.empty()) jwt_add_header(jwt, "jku", c.jku.c_str());
  jwt_set_alg(jwt, JWT_ALG_RS384,
              reinterpret_cast<const unsigned char*>(key_pem.data()),
              static_cast<int>(key_pem.size()));
  char* s = jwt_encode_str(jwt);
  std::string token = s ? s : "";
  free(s);
  jwt_free(jwt);
  return token;
}

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_EHR_EHR_CLIENT_H_
