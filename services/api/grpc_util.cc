#include "absl/strings/str_cat.h"
#include "services/api/api.h"
#include "services/validation/validation.h"

namespace achilles::api {

absl::StatusOr<std::string> ClinicFromContext(
    const grpc::CallbackServerContext* context) {
  const auto& md = context->client_metadata();
  auto it = md.find("x-clinic-id");
  if (it == md.end()) return std::string("default");
  std::string clinic(it->second.data(), it->second.size());
  if (auto st = validation::ValidateId("x-clinic-id metadata", clinic);
      !st.ok()) {
    return st;
  }
  return clinic;
}

absl::StatusOr<std::string> ClinicForPatient(
    const grpc::CallbackServerContext* context, const std::string& patient_id) {
  auto clinic = ClinicFromContext(context);
  if (!clinic.ok()) return clinic;
  if (auto st = validation::ValidateId("patient_id", patient_id); !st.ok()) {
    return st;
  }
  return clinic;
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical google.rpc.Code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace achilles::api
