// The EHR listener's certificate is re-read when its files change: a real
// TLS server (cpp-httplib with the CertReloader) and openssl s_client.
#include <gtest/gtest.h>
#include <httplib.h>
#include <utime.h>

#include <thread>

#include "services/ehr/internal/cert_reloader.h"
#include "tests/common/temp_dir.h"
#include "tests/ehr/ehr_client.h"

namespace achilles::ehr_internal {
namespace {

const std::string kTestdata = TESTDATA_DIR;

void Copy(const std::string& from, const std::string& to, time_t mtime) {
  std::ofstream(to, std::ios::binary | std::ios::trunc)
      << testing::ReadAll(from);
  const utimbuf times{mtime, mtime};
  utime(to.c_str(), &times);
}

std::string Subject(int port) {
  int st = 0;
  return testing::RunCommand(
      "openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
          " </dev/null 2>/dev/null | openssl x509 -noout -subject",
      &st, /*merge=*/false);
}

TEST(CertReloaderTest, ARenewedCertificateIsServedWithoutRestart) {
  testing::TempDir dir;
  const std::string cert = dir.Sub("c.pem"), key = dir.Sub("k.pem");
  Copy(kTestdata + "/server.pem", cert, 1000);
  Copy(kTestdata + "/server.key", key, 1000);
  CertReloader certs(cert, key, /*refresh_seconds=*/0);
  httplib::SSLServer server([&](SSL_CTX& ctx) { return certs.Install(&ctx); });
  ASSERT_TRUE(server.is_valid());
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  EXPECT_NE(Subject(port).find("localhost"), std::string::npos);

  // A half-written renewal (a key that does not match) keeps the old pair.
  Copy(kTestdata + "/ehr-system.pem", cert, 2000);
  EXPECT_NE(Subject(port).find("localhost"), std::string::npos);
  Copy(kTestdata + "/ehr-system.key", key, 2000);
  EXPECT_NE(Subject(port).find("ehr-system"), std::string::npos);
  server.stop();
  serving.join();
}

TEST(CertReloaderTest, AMissingPairDoesNotInstall) {
  CertReloader certs("/nonexistent.pem", "/nonexistent.key", 60);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  EXPECT_FALSE(certs.Install(ctx));
  SSL_CTX_free(ctx);
}

}  // namespace
}  // namespace achilles::ehr_internal
