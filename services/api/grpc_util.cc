#include "absl/strings/str_cat.h"
#include "common/metrics/metrics.h"
#include "services/api/api.h"
#include "services/telemetry/telemetry.h"
#include "services/validation/validation.h"

namespace achilles::api {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Depth-first: the path of the first message holding unknown fields.
bool FindUnknown(const Message& m, const std::string& path, std::string* at,
                 int* number) {
  const auto* reflection = m.GetReflection();
  const auto& unknown = reflection->GetUnknownFields(m);
  if (!unknown.empty()) {
    *at = path;
    *number = unknown.field(0).number();
    return true;
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string base = path.empty() ? f->name() : path + "." + f->name();
    if (!f->is_repeated()) {
      if (FindUnknown(reflection->GetMessage(m, f), base, at, number)) {
        return true;
      }
      continue;
    }
    for (int i = 0; i < reflection->FieldSize(m, f); ++i) {
      if (FindUnknown(reflection->GetRepeatedMessage(m, f, i),
                      absl::StrCat(base, "[", i, "]"), at, number)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

absl::Status RejectUnknownFields(const Message& request) {
  std::string at;
  int number = 0;
  if (!FindUnknown(request, "", &at, &number)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      at.empty() ? "request" : at, ": unknown field number ", number,
      " (not part of this server's API; nothing was stored)"));
}

absl::StatusOr<security::Caller> AdmitCall(grpc::CallbackServerContext* ctx,
                                           Backend* b, const char* method) {
  const security::MethodPolicy* policy = security::FindMethod(method);
  if (policy == nullptr) {
    // Fail closed: a method missing from the table is a server bug.
    return absl::InternalError(
        absl::StrCat(method, " has no access policy; refused"));
  }
  return b->gate->Admit(*ctx, *policy);
}

namespace {

// The W3C trace id the client sent, if any (first traceparent only).
std::string TraceId(const grpc::CallbackServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("traceparent");
  if (it == md.end()) return "";
  return telemetry::TraceIdFromTraceparent(
      absl::string_view(it->second.data(), it->second.size()));
}

void Observe(grpc::CallbackServerContext* ctx, Backend* b, const char* method,
             const absl::StatusOr<security::Caller>& caller,
             const std::string& patient_id, const absl::Status& sent,
             int64_t started_nanos) {
  telemetry::CallInfo info;
  info.method = method;
  info.code = sent.code();
  info.seconds = metrics::SecondsSince(started_nanos);
  const std::string trace = TraceId(*ctx);
  info.trace_id = trace;
  const std::string peer = ctx->peer();
  info.peer = peer;
  std::string pseudonym;
  if (caller.ok()) {
    info.clinic = caller->clinic;
    info.subject = caller->subject;
    info.credential_id = caller->credential_id;
    // Never the id itself: the audit trail's keyed pseudonym, which an
    // operator can match against it.
    if (!patient_id.empty() && b->secret != nullptr) {
      pseudonym = b->secret->Pseudonym(caller->clinic, patient_id);
    }
  }
  info.patient_pseudonym = pseudonym;
  telemetry::RecordCall(info);
}

}  // namespace

absl::Status FinishCall(grpc::CallbackServerContext* ctx, Backend* b,
                        const char* method,
                        const absl::StatusOr<security::Caller>& caller,
                        const std::string& patient_id, absl::Status outcome,
                        int64_t started_nanos) {
  const security::MethodPolicy* policy = security::FindMethod(method);
  absl::Status sent = policy == nullptr
                          ? std::move(outcome)
                          : b->gate->Record(*ctx, *policy, caller, patient_id,
                                            std::move(outcome));
  Observe(ctx, b, method, caller, patient_id, sent, started_nanos);
  return sent;
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical google.rpc.Code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace achilles::api
