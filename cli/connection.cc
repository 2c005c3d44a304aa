#include "cli/connection.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, server, "",
          "server address (default $ACHILLES_SERVER or 127.0.0.1:50051)");
ABSL_FLAG(std::string, clinic, "",
          "clinic id; only confirms the token's clinic (sent as x-clinic-id)");
ABSL_FLAG(int, timeout_s, 30, "per-call deadline in seconds");
ABSL_FLAG(std::string, token, "",
          "bearer token (default $ACHILLES_TOKEN); prefer --token_file");
ABSL_FLAG(std::string, token_file, "",
          "file holding the bearer token (default $ACHILLES_TOKEN_FILE)");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA of the server's certificate: connect over TLS");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM client certificate for mutual TLS (with --tls_key_file)");
ABSL_FLAG(std::string, tls_key_file, "", "PEM key of --tls_cert_file");

namespace achilles::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

absl::StatusOr<std::string> ReadFile(const std::string& flag,
                                     const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read ", path));
  }
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

std::string Token() {
  std::string token = absl::GetFlag(FLAGS_token);
  std::string file = absl::GetFlag(FLAGS_token_file);
  if (token.empty() && file.empty()) token = Env("ACHILLES_TOKEN");
  if (token.empty() && file.empty()) file = Env("ACHILLES_TOKEN_FILE");
  if (token.empty() && !file.empty()) {
    auto text = ReadFile("--token_file", file);
    if (text.ok()) token = *text;
  }
  return std::string(absl::StripAsciiWhitespace(token));
}

}  // namespace

std::string ServerTarget() {
  std::string target = absl::GetFlag(FLAGS_server);
  if (target.empty()) target = Env("ACHILLES_SERVER");
  if (target.empty()) target = "127.0.0.1:50051";
  return target;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel() {
  return MakeChannelTo(ServerTarget());
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannelTo(
    const std::string& target) {
  const std::string ca = absl::GetFlag(FLAGS_tls_ca_file);
  if (ca.empty()) {
    return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions ssl;
  auto root = ReadFile("--tls_ca_file", ca);
  if (!root.ok()) return root.status();
  ssl.pem_root_certs = *root;
  if (!absl::GetFlag(FLAGS_tls_cert_file).empty()) {
    auto cert = ReadFile("--tls_cert_file", absl::GetFlag(FLAGS_tls_cert_file));
    auto key = ReadFile("--tls_key_file", absl::GetFlag(FLAGS_tls_key_file));
    if (!cert.ok()) return cert.status();
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::CreateChannel(target, grpc::SslCredentials(ssl));
}

void Decorate(grpc::ClientContext* ctx, bool deadline, bool clinic_header) {
  const std::string token = Token();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  const std::string clinic = absl::GetFlag(FLAGS_clinic);
  if (clinic_header && !clinic.empty()) {
    ctx->AddMetadata("x-clinic-id", clinic);
  }
  if (deadline) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(absl::GetFlag(FLAGS_timeout_s)));
  }
}

}  // namespace achilles::cli
