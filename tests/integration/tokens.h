// Credentials for tests that drive a real achilles-server process: read the
// operator token the server bootstraps into its data dir, and issue a
// clinic token through the real CredentialService.
#ifndef ACHILLES_TESTS_INTEGRATION_TOKENS_H_
#define ACHILLES_TESTS_INTEGRATION_TOKENS_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "achilles/v1/security_service.grpc.pb.h"

namespace achilles::testing {

inline std::string ReadOperatorToken(const std::string& data_dir) {
  std::ifstream in(data_dir + "/operator.token");
  std::string token;
  in >> token;
  EXPECT_FALSE(token.empty()) << "no operator.token in " << data_dir;
  return token;
}

inline void Authorize(grpc::ClientContext* ctx, const std::string& token) {
  ctx->AddMetadata("authorization", "Bearer " + token);
}

// A token for `clinic` as its EHR, clinician and administrator.
inline std::string IssueClinicToken(
    const std::shared_ptr<grpc::Channel>& channel,
    const std::string& operator_token, const std::string& clinic = "default") {
  auto stub = v1::CredentialService::NewStub(channel);
  grpc::ClientContext ctx;
  Authorize(&ctx, operator_token);
  v1::IssueTokenRequest req;
  req.set_subject("test client");
  req.set_clinic_id(clinic);
  req.add_roles(v1::ROLE_EHR);
  req.add_roles(v1::ROLE_CLINICIAN);
  req.add_roles(v1::ROLE_CLINIC_ADMIN);
  v1::IssueTokenResponse resp;
  auto st = stub->IssueToken(&ctx, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp.token();
}

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_INTEGRATION_TOKENS_H_
