// gRPC's callback API answers a request it cannot decode (for example a
// string field that is not valid UTF-8, which proto3 parsing refuses) with
// UNIMPLEMENTED and no message, before any handler runs. That misleads
// clients into thinking the method does not exist. This interceptor turns
// that answer, for this server's own methods, into INVALID_ARGUMENT with a
// message saying what was wrong.
#include <grpcpp/support/server_interceptor.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "services/api/api.h"

namespace achilles::api {
namespace {

class DecodeErrorInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit DecodeErrorInterceptor(std::string method)
      : method_(std::move(method)) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status st = methods->GetSendStatus();
      if (st.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
          st.error_message().empty()) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("request to ", method_,
                         " could not be decoded: a text field is not valid "
                         "UTF-8, or the bytes are not the request message")));
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
};

class DecodeErrorInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  DecodeErrorInterceptorFactory() {
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    for (const char* name :
         {"achilles.v1.PatientService", "achilles.v1.DecisionService",
          "achilles.v1.PluginService", "achilles.v1.PolicyService",
          "achilles.v1.CaseloadService", "achilles.v1.StoreService"}) {
      const auto* service = pool->FindServiceByName(name);
      if (service == nullptr) continue;
      for (int i = 0; i < service->method_count(); ++i) {
        methods_.insert(
            absl::StrCat("/", name, "/", service->method(i)->name()));
      }
    }
  }

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // Only methods this server implements: an unknown method really is
    // UNIMPLEMENTED.
    if (!methods_.contains(info->method())) return nullptr;
    return new DecodeErrorInterceptor(info->method());
  }

 private:
  absl::flat_hash_set<std::string> methods_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeDecodeErrorInterceptorFactory() {
  return std::make_unique<DecodeErrorInterceptorFactory>();
}

}  // namespace achilles::api
