// TLS and mutual TLS against a real server: plaintext clients cannot talk
// to a TLS server, a mutual-TLS server refuses clients without a
// certificate its CA signed, and a token bound to a client certificate is
// refused with any other certificate.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "achilles/v1/patient_service.grpc.pb.h"
#include "common/time_util.h"
#include "services/server/server.h"
#include "tests/common/temp_dir.h"

namespace achilles::testing {
namespace {

std::string Pem(const std::string& name) {
  std::ifstream in(std::string(TESTDATA_DIR) + "/" + name);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

class TransportTest : public ::testing::Test {
 protected:
  void Start(bool mutual) {
    server::ServerOptions o;
    o.listen_address = "127.0.0.1:0";
    o.data_dir = dir_.Sub("data");
    o.tls_cert_file = std::string(TESTDATA_DIR) + "/server.pem";
    o.tls_key_file = std::string(TESTDATA_DIR) + "/server.key";
    if (mutual) o.tls_client_ca_file = std::string(TESTDATA_DIR) + "/ca.pem";
    auto s = server::Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  std::string Token(const std::string& bound_cn = "") {
    v1::IssueTokenRequest req;
    req.set_subject("ehr");
    req.set_clinic_id("a");
    req.add_roles(v1::ROLE_EHR);
    req.set_bound_cert_cn(bound_cn);
    auto issued = server_->backend()->gate->credentials()->Issue(req, "test",
                                                                 NowMicros());
    EXPECT_TRUE(issued.ok());
    return issued->token();
  }

  // ListPatients over `creds` with `token`.
  grpc::Status Call(const std::shared_ptr<grpc::ChannelCredentials>& creds,
                    const std::string& token) {
    auto channel = grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), creds);
    auto stub = v1::PatientService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::ListPatientsRequest req;
    v1::ListPatientsResponse resp;
    return stub->ListPatients(&ctx, req, &resp);
  }

  std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& client) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = Pem("ca.pem");
    if (!client.empty()) {
      o.pem_cert_chain = Pem(client + ".pem");
      o.pem_private_key = Pem(client + ".key");
    }
    return grpc::SslCredentials(o);
  }

  TempDir dir_;
  std::unique_ptr<server::Server> server_;
};

TEST_F(TransportTest, TlsServerTalksOnlyTls) {
  Start(/*mutual=*/false);
  const std::string token = Token();
  EXPECT_TRUE(Call(Tls(""), token).ok());
  EXPECT_EQ(Call(grpc::InsecureChannelCredentials(), token).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // TLS is not authentication: a token is still required.
  EXPECT_EQ(Call(Tls(""), "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TransportTest, MutualTlsRefusesClientsWithoutACertificate) {
  Start(/*mutual=*/true);
  const std::string token = Token();
  EXPECT_EQ(Call(Tls(""), token).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Call(Tls("ehr-system"), token).ok());
}

TEST_F(TransportTest, ACertificateBoundTokenNeedsItsCertificate) {
  Start(/*mutual=*/true);
  const std::string bound = Token("ehr-system");
  EXPECT_TRUE(Call(Tls("ehr-system"), bound).ok());
  const auto st = Call(Tls("other-system"), bound);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(st.error_message().find("client certificate"), std::string::npos);
}

TEST_F(TransportTest, MissingCertificateFilesAreAClearError) {
  server::ServerOptions o;
  o.listen_address = "127.0.0.1:0";
  o.data_dir = dir_.Sub("data2");
  o.tls_cert_file = dir_.Sub("nope.pem");
  o.tls_key_file = std::string(TESTDATA_DIR) + "/server.key";
  auto s = server::Server::Start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("--tls_cert_file"), std::string::npos)
      << s.status();
}

}  // namespace
}  // namespace achilles::testing
