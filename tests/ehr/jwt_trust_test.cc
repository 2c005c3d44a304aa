// CDS Hooks JWT checks one by one, against a real RSA key pair.
#include "services/ehr/internal/jwt_trust.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "absl/strings/escaping.h"
#include "tests/common/temp_dir.h"
#include "tests/ehr/ehr_client.h"

namespace achilles::ehr_internal {
namespace {

using testing::JwtClaims;
using testing::SignJwt;

constexpr char kAud[] = "https://cds.test/cds-services/x";

class JwtTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string key = dir_.Sub("k.pem"), pub = dir_.Sub("k.pub");
    int st = 0;
    testing::RunCommand(
        "openssl genpkey -algorithm RSA -pkeyopt "
        "rsa_keygen_bits:2048 -out " +
            key + " && openssl pkey -in " + key + " -pubout -out " + pub,
        &st);
    ASSERT_EQ(st, 0);
    private_pem_ = testing::ReadAll(key);
    public_pem_ = testing::ReadAll(pub);
    TrustedIssuer t;
    t.iss = "https://ehr.test";
    t.clinic = "c1";
    t.roles = security::Bit(v1::ROLE_EHR);
    t.keys = {{"k1", public_pem_}};
    trust_ = JwtTrust::FromIssuers({t});
  }

  absl::StatusOr<security::Caller> Verify(const std::string& token) {
    return trust_->Verify(token, {kAud}, absl::ToUnixSeconds(absl::Now()));
  }

  JwtClaims Claims() {
    JwtClaims c;
    c.aud = kAud;
    return c;
  }

  testing::TempDir dir_;
  std::string private_pem_, public_pem_;
  std::unique_ptr<JwtTrust> trust_;
};

TEST_F(JwtTrustTest, AValidTokenIsTheIssuersClinicAndRoles) {
  auto caller = Verify(SignJwt(Claims(), private_pem_));
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->clinic, "c1");
  EXPECT_EQ(caller->roles, security::Bit(v1::ROLE_EHR));
  EXPECT_EQ(caller->subject, "https://ehr.test ehr-client");
}

TEST_F(JwtTrustTest, UnsignedAndSymmetricTokensAreRefused) {
  std::string header, claims;
  absl::WebSafeBase64Escape(R"({"alg":"none","typ":"JWT"})", &header);
  absl::WebSafeBase64Escape(R"({"iss":"https://ehr.test","sub":"x","aud":")" +
                                std::string(kAud) +
                                R"(","jti":"n1","iat":1,"exp":9999999999})",
                            &claims);
  EXPECT_TRUE(
      absl::IsUnauthenticated(Verify(header + "." + claims + ".").status()));
  // HS384 keyed with the public key: the classic confusion attack.
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  jwt_add_grant(jwt, "iss", "https://ehr.test");
  jwt_add_grant(jwt, "aud", kAud);
  jwt_set_alg(jwt, JWT_ALG_HS384,
              reinterpret_cast<const unsigned char*>(public_pem_.data()),
              static_cast<int>(public_pem_.size()));
  char* s = jwt_encode_str(jwt);
  const std::string hs = s;
  free(s);
  jwt_free(jwt);
  auto st = Verify(hs).status();
  EXPECT_TRUE(absl::IsUnauthenticated(st));
  EXPECT_NE(st.message().find("alg"), std::string::npos);
}

TEST_F(JwtTrustTest, EachClaimIsChecked) {
  auto refused = [&](JwtClaims c, const char* why) {
    auto st = Verify(SignJwt(c, private_pem_)).status();
    EXPECT_TRUE(absl::IsUnauthenticated(st)) << why;
    EXPECT_NE(st.message().find(why), std::string::npos) << st;
  };
  JwtClaims c = Claims();
  c.kid = "other";
  refused(c, "signature");
  c = Claims();
  c.iat = absl::ToUnixSeconds(absl::Now()) + 600;
  refused(c, "iat");
  c = Claims();
  c.lifetime = 7200;
  refused(c, "lifetime");
  c = Claims();
  c.sub = "";
  refused(c, "sub");
  c = Claims();
  c.aud = "https://cds.test/cds-services/y";
  refused(c, "aud");
}

TEST_F(JwtTrustTest, AJtiIsUsedOnce) {
  JwtClaims c = Claims();
  c.jti = "only-once";
  const std::string token = SignJwt(c, private_pem_);
  EXPECT_TRUE(Verify(token).ok());
  auto again = Verify(token).status();
  EXPECT_NE(again.message().find("jti"), std::string::npos) << again;
}

TEST(JwtTrustLoadTest, BadTrustFilesNameTheElement) {
  testing::TempDir dir;
  auto load = [&](const std::string& text) {
    std::ofstream(dir.Sub("t.json")) << text;
    return JwtTrust::Load(dir.Sub("t.json")).status();
  };
  EXPECT_NE(load("{}").message().find("issuers"), std::string::npos);
  EXPECT_NE(load(R"({"issuers":[{"iss":"a","clinic":"c","roles":["operator"],
                 "keys":[{"pem_file":"x"}]}]})")
                .message()
                .find("issuers[0].roles"),
            std::string::npos);
  EXPECT_TRUE(absl::IsFailedPrecondition(
      load(R"({"issuers":[{"iss":"a","clinic":"c","roles":["ehr"],
             "keys":[{"pem_file":"missing.pem"}]}]})")));
  std::ofstream(dir.Sub("j.json")) << R"({"keys":[{"kty":"oct","k":"AA"}]})";
  EXPECT_NE(load(R"({"issuers":[{"iss":"a","clinic":"c","roles":["ehr"],
                 "jwks_file":"j.json"}]})")
                .message()
                .find("keys[0]"),
            std::string::npos);
  EXPECT_NE(load(R"({"issuers":[{"iss":"a","clinic":"c","roles":["ehr"],
                 "jwks_url":"http://ehr.test/jwks"}]})")
                .message()
                .find("issuers[0].jwks_url: plain http is refused"),
            std::string::npos);
  EXPECT_TRUE(load(R"({"issuers":[{"iss":"a","clinic":"c","roles":["ehr"],
                 "jwks_url":"https://ehr.test/jwks",
                 "fhir_servers":["https://fhir.ehr.test/r4/"]}]})")
                  .ok());
  EXPECT_NE(load(R"({"issuers":[{"iss":"a","clinic":"c","roles":["ehr"],
                 "jwks_url":"https://ehr.test/jwks","jwks_file":"j.json"}]})")
                .message()
                .find("one way: keys, jwks_file or jwks_url"),
            std::string::npos);
  EXPECT_NE(load(R"({"issuers":[{"iss":"a","clinic":"c","roles":["ehr"],
                 "jwks_url":"https://ehr.test/jwks",
                 "fhir_servers":["ftp://fhir"]}]})")
                .message()
                .find("fhir_servers"),
            std::string::npos);
}

// An issuer whose keys are a JWKS URL: fetched when first needed, then
// cached; an unknown kid fetches again, but not on every token; a token's
// jku must be that URL; no keys at all is 503 with the reason.
TEST_F(JwtTrustTest, KeysFromAJwksUrlAreFetchedCachedAndPinned) {
  int st = 0;
  testing::RunCommand(
      "node -e \"const c=require('crypto'),f=require('fs');"
      "const k=c.createPublicKey(f.readFileSync(process.argv[1]))"
      ".export({format:'jwk'});k.kid='u1';"
      "f.writeFileSync(process.argv[2],JSON.stringify({keys:[k]}))\" " +
          dir_.Sub("k.pub") + " " + dir_.Sub("jwks.json"),
      &st);
  ASSERT_EQ(st, 0);
  const std::string jwks = testing::ReadAll(dir_.Sub("jwks.json"));
  std::atomic<int> fetches{0};
  httplib::Server server;
  server.Get("/jwks.json", [&](const httplib::Request&, httplib::Response& r) {
    ++fetches;
    r.set_content(jwks, "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  const std::string url =
      "http://127.0.0.1:" + std::to_string(port) + "/jwks.json";
  TrustedIssuer t;
  t.iss = "https://ehr.test";
  t.clinic = "c1";
  t.roles = security::Bit(v1::ROLE_EHR);
  t.jwks_url = url;
  FhirFetchOptions outbound;
  outbound.allow_http = true;
  auto trust = JwtTrust::FromIssuers({t}, outbound);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  auto verify = [&](JwtClaims c, int64_t at) {
    c.aud = kAud;
    return trust->Verify(SignJwt(c, private_pem_), {kAud}, at);
  };
  JwtClaims c;
  c.kid = "u1";
  EXPECT_TRUE(verify(c, now).ok());
  EXPECT_TRUE(verify(c, now + 1).ok());
  EXPECT_EQ(fetches.load(), 1) << "cached";
  c.kid = "rotated";
  EXPECT_FALSE(verify(c, now + 2).ok());
  EXPECT_EQ(fetches.load(), 1) << "no refetch within the retry interval";
  EXPECT_FALSE(verify(c, now + JwtTrust::kJwksRetrySeconds + 1).ok());
  EXPECT_EQ(fetches.load(), 2) << "an unknown kid fetches again";
  c.kid = "u1";
  c.jku = "https://attacker.test/jwks.json";
  auto pinned = verify(c, now + 40);
  EXPECT_TRUE(absl::IsUnauthenticated(pinned.status()));
  EXPECT_NE(pinned.status().message().find("jku"), std::string::npos);
  c.jku = url;
  EXPECT_TRUE(verify(c, now + 41).ok());
  server.stop();
  serving.join();

  // The URL down: known keys still work for a while, but not once no fetch
  // has confirmed them for kJwksMaxStaleSeconds (a withdrawn key must stop
  // working).
  EXPECT_TRUE(verify(c, now + 100).ok());
  c.iat = now + JwtTrust::kJwksMaxStaleSeconds + 60;
  auto stale = verify(c, c.iat);
  EXPECT_TRUE(absl::IsUnavailable(stale.status())) << stale.status();
  c.iat = 0;

  // Nothing fetched yet and the URL unreachable: the server's trouble, not
  // the caller's (503, UNAVAILABLE), naming the cause.
  auto cold = JwtTrust::FromIssuers({t}, outbound);
  c.jku.clear();
  c.aud = kAud;
  auto down = cold->Verify(SignJwt(c, private_pem_), {kAud}, now);
  EXPECT_TRUE(absl::IsUnavailable(down.status())) << down.status();
  EXPECT_NE(down.status().message().find("jwks_url"), std::string::npos)
      << down.status();
  // https only unless allowed.
  EXPECT_FALSE(JwtTrust::FromIssuers({t})
                   ->Verify(SignJwt(c, private_pem_), {kAud}, now)
                   .ok());
}

}  // namespace
}  // namespace achilles::ehr_internal
