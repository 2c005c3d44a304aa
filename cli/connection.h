// How achillesctl reaches the server and proves who it is.
//
// Server: --server, else $ACHILLES_SERVER, else 127.0.0.1:50051.
// Credentials: --token, else --token_file, else $ACHILLES_TOKEN, else
// $ACHILLES_TOKEN_FILE. Every call carries "authorization: Bearer <token>";
// --clinic, when given, is sent as x-clinic-id and only confirms the
// token's clinic (the server refuses a mismatch).
// Transport: TLS when --tls_ca_file is given (the CA that signed the
// server's certificate), with a client certificate for mutual TLS when
// --tls_cert_file and --tls_key_file are given; plaintext otherwise.
#ifndef ACHILLES_CLI_CONNECTION_H_
#define ACHILLES_CLI_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"

ABSL_DECLARE_FLAG(std::string, clinic);
ABSL_DECLARE_FLAG(int, timeout_s);

namespace achilles::cli {

// The address calls go to: --server, $ACHILLES_SERVER or the default.
std::string ServerTarget();

// INVALID_ARGUMENT naming the flag when a file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel();
// The same transport (--tls_* flags) to another address.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannelTo(
    const std::string& target);

// Adds credentials, the clinic header (when --clinic is set) and the
// deadline. An empty token sends none (the server then answers
// UNAUTHENTICATED with what to do).
void Decorate(grpc::ClientContext* ctx, bool deadline = true,
              bool clinic_header = true);

}  // namespace achilles::cli

#endif  // ACHILLES_CLI_CONNECTION_H_
