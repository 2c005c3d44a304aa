// Client channels and call metadata for the load generator (see clients.h).
#include "bench/clients.h"

namespace achilles::bench {

Clients::Clients(const std::string& target, const std::string& token, int count,
                 std::chrono::milliseconds deadline)
    : token_(token), deadline_(deadline) {
  for (int c = 0; c < count; ++c) {
    grpc::ChannelArguments args;
    // A distinct argument per channel keeps gRPC from sharing one
    // connection between them.
    args.SetInt("achilles_bench_channel", c);
    auto channel = grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args);
    patients_.push_back(v1::PatientService::NewStub(channel));
    decisions_.push_back(v1::DecisionService::NewStub(channel));
  }
}

void Clients::Prepare(grpc::ClientContext* ctx) const {
  ctx->AddMetadata("authorization", "Bearer " + token_);
  ctx->set_deadline(std::chrono::system_clock::now() + deadline_);
}

}  // namespace achilles::bench
