// The mechanics behind api::Serve and api::ServeInline (declared, with
// their contract, in services/api/api.h; include that header, not this one).
#ifndef ACHILLES_SERVICES_API_SERVE_H_
#define ACHILLES_SERVICES_API_SERVE_H_

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/metrics/metrics.h"
#include "services/api/api.h"

namespace achilles::api {
namespace serve_internal {

// The admitted caller, or the status that refuses the call (`*outcome`).
inline absl::StatusOr<security::Caller> Admit(
    grpc::CallbackServerContext* ctx, Backend* b, const char* method,
    const google::protobuf::Message& request, absl::Status* outcome) {
  absl::StatusOr<security::Caller> caller = AdmitCall(ctx, b, method);
  *outcome = caller.status();
  if (caller.ok()) *outcome = RejectUnknownFields(request);
  return caller;
}

// `reactor` is the call's one DefaultReactor(): gRPC constructs it afresh on
// every DefaultReactor() call, so asking twice would forget a Finish.
inline void Finish(grpc::CallbackServerContext* ctx,
                   grpc::ServerUnaryReactor* reactor, Backend* b,
                   const char* method,
                   const absl::StatusOr<security::Caller>& caller,
                   const std::string& patient_id, absl::Status outcome,
                   int64_t started_nanos) {
  reactor->Finish(ToGrpc(
      FinishCall(ctx, b, method, caller, patient_id, outcome, started_nanos)));
}

inline absl::Status Busy(const Executor& ex) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "server busy: all ", ex.threads(), " request threads are working and ",
      ex.max_queued(), " requests are queued; retry with backoff"));
}

}  // namespace serve_internal

template <typename Fn>
grpc::ServerUnaryReactor* ServeInline(grpc::CallbackServerContext* ctx,
                                      Backend* b, const char* method,
                                      const google::protobuf::Message& request,
                                      const std::string& patient_id, Fn&& fn) {
  const int64_t started = metrics::NowNanos();
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status outcome;
  auto caller = serve_internal::Admit(ctx, b, method, request, &outcome);
  if (outcome.ok()) outcome = fn(*caller);
  serve_internal::Finish(ctx, reactor, b, method, caller, patient_id, outcome,
                         started);
  return reactor;
}

template <typename Fn>
grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx, Backend* b,
                                const char* method,
                                const google::protobuf::Message& request,
                                const std::string& patient_id, Fn&& fn) {
  const int64_t started = metrics::NowNanos();
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status outcome;
  auto caller = serve_internal::Admit(ctx, b, method, request, &outcome);
  if (!outcome.ok() || b->executor == nullptr) {
    if (outcome.ok()) outcome = fn(*caller);
    serve_internal::Finish(ctx, reactor, b, method, caller, patient_id, outcome,
                           started);
    return reactor;
  }
  auto work = [ctx, reactor, b, method, admitted = *caller, patient_id, started,
               fn = std::forward<Fn>(fn)]() mutable {
    absl::Status result =
        ctx->IsCancelled()
            ? absl::CancelledError(
                  "the call was cancelled (or its deadline passed) before "
                  "the server reached it; nothing was done")
            : fn(admitted);
    serve_internal::Finish(ctx, reactor, b, method, admitted, patient_id,
                           std::move(result), started);
  };
  if (!b->executor->TrySubmit(std::move(work))) {
    serve_internal::Finish(ctx, reactor, b, method, caller, patient_id,
                           serve_internal::Busy(*b->executor), started);
  }
  return reactor;
}

}  // namespace achilles::api

#endif  // ACHILLES_SERVICES_API_SERVE_H_
