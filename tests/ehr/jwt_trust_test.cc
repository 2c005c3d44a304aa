// CDS Hooks JWT checks one by one, against a real RSA key pair.
#include "services/ehr/internal/jwt_trust.h"

#include <gtest/gtest.h>

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
    TrustedIssuer t{"https://ehr.test",
                    "c1",
                    security::Bit(v1::ROLE_EHR),
                    {{"k1", public_pem_}}};
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
}

}  // namespace
}  // namespace achilles::ehr_internal
