// Calling plugins (plugin_host.h): LoadedPlugin, PluginSet::CallAll and the
// checks every response passes.
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/metrics/metrics.h"
#include "plugins/host/internal/loader.h"
#include "plugins/host/internal/plugin_metrics.h"
#include "plugins/host/internal/plugin_runner.h"
#include "plugins/host/plugin_host.h"

namespace achilles::plugins {
namespace {

namespace pi = ::achilles::plugins_internal;

absl::Status CheckCandidate(const v1::Recommendation& c,
                            const std::string& which) {
  if (c.id().empty()) {
    return absl::InternalError(absl::StrCat(which, " has no id"));
  }
  if (c.summary().empty()) {
    return absl::InternalError(absl::StrCat(which, " has no summary"));
  }
  if (c.severity() == v1::SEVERITY_UNSPECIFIED ||
      !v1::Severity_IsValid(c.severity())) {
    return absl::InternalError(absl::StrCat(which, " has no valid severity"));
  }
  if (c.category() == v1::CATEGORY_UNSPECIFIED ||
      !v1::Category_IsValid(c.category())) {
    return absl::InternalError(absl::StrCat(which, " has no valid category"));
  }
  // Safety advice belongs to the built-in screen; a plugin cannot claim it
  // or outrank it.
  if (c.category() == v1::CATEGORY_SAFETY ||
      c.severity() == v1::SEVERITY_CRITICAL) {
    return absl::InternalError(
        absl::StrCat(which,
                     " claims safety category or critical severity, which only "
                     "the built-in safety screen may use"));
  }
  const auto& r = c.rationale();
  if (r.rule_id().empty()) {
    return absl::InternalError(
        absl::StrCat(which, " has no rationale rule id"));
  }
  if (r.observed_size() == 0) {
    return absl::InternalError(
        absl::StrCat(which, " has no observed values in its rationale"));
  }
  if (r.sources_size() == 0) {
    return absl::InternalError(
        absl::StrCat(which, " has no source in its rationale"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePluginResponse(const v1::PluginResponse& response) {
  for (int i = 0; i < response.candidates_size(); ++i) {
    const auto& c = response.candidates(i);
    absl::Status st =
        CheckCandidate(c, absl::StrCat("candidate ", i, " ('", c.id(), "')"));
    if (!st.ok()) return st;
  }
  for (const auto& c : response.contraindications()) {
    if (c.id().empty() || c.blocked_tag().empty() || c.reason().empty()) {
      return absl::InternalError(
          "a contraindication lacks its id, blocked tag or reason");
    }
  }
  return absl::OkStatus();
}

std::string InProcessLoaderStuckIn() { return pi::LoaderStuckIn(); }

// The runner owns the library (and, in process, closes it on the loader
// thread when its last call lets go).
LoadedPlugin::~LoadedPlugin() = default;

std::string LoadedPlugin::Named(absl::string_view what) const {
  return absl::StrCat("plugin ", record_.id, " ", what);
}

absl::Status LoadedPlugin::RcError(int rc, absl::string_view error) const {
  const absl::string_view why = error.empty() ? "(no message)" : error;
  // The plugin says the request was unusable: the host's side of the
  // contract, so not the plugin's INTERNAL failure.
  if (rc == ACH_RC_BAD_REQUEST) {
    return absl::InvalidArgumentError(Named(
        absl::StrCat("rejected the request (ACH_RC_BAD_REQUEST): ", why)));
  }
  if (rc == ACH_RC_PLUGIN_ERROR) {
    return absl::InternalError(
        Named(absl::StrCat("failed (ACH_RC_PLUGIN_ERROR): ", why)));
  }
  return absl::InternalError(
      Named(absl::StrCat("returned unknown result code ", rc, ": ", why)));
}

absl::StatusOr<v1::PluginResponse> LoadedPlugin::Finish(
    int rc, absl::string_view error, absl::string_view bytes) const {
  if (rc != ACH_RC_OK) return RcError(rc, error);
  v1::PluginResponse response;
  if (!response.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InternalError(
        Named("returned bytes that are not a PluginResponse"));
  }
  if (absl::Status st = ValidatePluginResponse(response); !st.ok()) {
    return absl::InternalError(
        Named(absl::StrCat("returned a malformed response: ", st.message())));
  }
  return response;
}

absl::StatusOr<v1::PluginResponse> LoadedPlugin::Call(
    const std::string& request_bytes, absl::Duration timeout) const {
  // Copied: an in-process call abandoned at its deadline still reads it.
  const int64_t t0 = metrics::NowNanos();
  auto started =
      runner_->Start(std::make_shared<const std::string>(request_bytes),
                     {absl::Now() + timeout, timeout});
  return Await(&started, t0);
}

absl::StatusOr<v1::PluginResponse> LoadedPlugin::Await(
    absl::StatusOr<std::unique_ptr<pi::PendingCall>>* started,
    int64_t started_nanos) const {
  absl::Status st = started->status();
  if (st.ok()) st = (**started)->Wait();
  if (!st.ok()) {
    pi::RecordPluginCall(record_.id, st, metrics::SecondsSince(started_nanos));
    return absl::Status(st.code(), Named(st.message()));
  }
  const pi::PendingCall& done = ***started;
  auto finished = Finish(done.rc(), done.error(), done.response());
  pi::RecordPluginCall(record_.id, finished.status(),
                       metrics::SecondsSince(started_nanos));
  return finished;
}

std::vector<absl::StatusOr<v1::PluginResponse>> PluginSet::CallAll(
    const std::vector<PluginCall>& calls, absl::Duration timeout) const {
  const pi::CallDeadline deadline{absl::Now() + timeout, timeout};
  // Answers are collected in order, so a plugin's figure is the time until
  // the host took its answer (at most the slowest before it in the batch).
  const int64_t t0 = metrics::NowNanos();
  auto valid = [this](const PluginCall& call) {
    return call.plugin < plugins.size() && call.request != nullptr;
  };
  // Every call is handed over before any answer is awaited: worker
  // processes and call threads then compute at the same time.
  std::vector<absl::StatusOr<std::unique_ptr<pi::PendingCall>>> pending;
  pending.reserve(calls.size());
  for (const PluginCall& call : calls) {
    pending.push_back(
        valid(call)
            ? plugins[call.plugin]->runner_->Start(call.request, deadline)
            : absl::InvalidArgumentError(absl::StrCat(
                  "call names no plugin of this set: ", call.plugin)));
  }
  std::vector<absl::StatusOr<v1::PluginResponse>> results;
  results.reserve(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    results.push_back(valid(calls[i])
                          ? plugins[calls[i].plugin]->Await(&pending[i], t0)
                          : pending[i].status());
  }
  return results;
}

}  // namespace achilles::plugins
