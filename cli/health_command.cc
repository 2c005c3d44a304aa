#include "cli/health_command.h"

#include <grpcpp/generic/generic_stub.h>

#include <cstdint>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/synchronization/notification.h"
#include "cli/connection.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"

namespace achilles::cli {
namespace {

using google::protobuf::internal::WireFormatLite;

// grpc.health.v1 is not among the generated headers Debian ships, and the
// messages are two fields, so the request and the answer are written and
// read with protobuf's own wire helpers over a generic call.
constexpr int kServiceField = 1;  // HealthCheckRequest.service
constexpr int kStatusField = 1;   // HealthCheckResponse.status
constexpr uint32_t kServing = 1;  // ServingStatus.SERVING

grpc::ByteBuffer RequestFor(const std::string& service) {
  std::string bytes;
  if (!service.empty()) {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream out(&raw);
    WireFormatLite::WriteString(kServiceField, service, &out);
  }  // `out` flushes into `bytes` here.
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// The status field of a HealthCheckResponse; 0 (UNKNOWN) when absent.
uint32_t StatusOf(const grpc::ByteBuffer& response) {
  grpc::Slice slice;
  if (!response.DumpToSingleSlice(&slice).ok()) return 0;
  google::protobuf::io::CodedInputStream in(slice.begin(), slice.size());
  uint32_t status = 0;
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == kStatusField &&
        WireFormatLite::GetTagWireType(tag) ==
            WireFormatLite::WIRETYPE_VARINT) {
      if (!in.ReadVarint32(&status)) return 0;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return 0;
    }
  }
  return status;
}

}  // namespace

int RunHealth(const std::shared_ptr<grpc::Channel>& channel,
              const std::vector<std::string>& args) {
  const std::string service = args.size() > 1 ? args[1] : "";
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(absl::GetFlag(FLAGS_timeout_s)));
  const grpc::ByteBuffer request = RequestFor(service);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) {
    std::cerr << "error: health check failed: " << status.error_message()
              << "\n";
    return 1;
  }
  if (StatusOf(response) != kServing) {
    std::cerr << "NOT_SERVING\n";
    return 1;
  }
  std::cout << "SERVING\n";
  return 0;
}

}  // namespace achilles::cli
