#include "plugins/host/internal/protocol_library.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "common/proto_bytes.h"
#include "common/utf8.h"

namespace achilles::plugins_internal {

namespace {

// At most what a .so may report, cut on a UTF-8 character boundary: the
// message reaches the evaluation's PluginRun.error, a proto3 string.
std::string Truncated(absl::string_view raw) {
  // Made valid first, so the cut below stays within the limit.
  const std::string valid = ToValidUtf8(raw);
  const absl::string_view message = valid;
  size_t n = std::min(message.size(), size_t{ACH_MAX_ERROR_LEN - 1});
  while (n > 0 && n < message.size() &&
         (static_cast<unsigned char>(message[n]) & 0xC0) == 0x80) {
    --n;
  }
  return std::string(message.substr(0, n));
}

}  // namespace

bool IsProtocolFile(absl::string_view path) {
  return absl::EndsWith(path, protocol_file::kProtocolFileSuffix);
}

absl::StatusOr<std::unique_ptr<ProtocolLibrary>> ProtocolLibrary::Open(
    const std::string& path, const std::string& name,
    plugins::PluginManifest* manifest) {
  manifest->abi_version = protocol_file::kProtocolAbiVersion;
  auto protocol = protocol_file::Protocol::Load(path, name);
  if (!protocol.ok()) {
    // Refused like a .so whose checks fail (info_check.h).
    return absl::FailedPreconditionError(protocol.status().message());
  }
  const protocol_file::Metadata& m = (*protocol)->metadata();
  manifest->id = m.id;
  manifest->version = m.version;
  manifest->display_name = m.display_name;
  manifest->protocols = m.protocols;
  manifest->event_kinds = m.event_kinds;
  return std::unique_ptr<ProtocolLibrary>(
      new ProtocolLibrary(*std::move(protocol)));
}

void ProtocolLibrary::Evaluate(absl::string_view request,
                               PluginReply* out) const {
  out->response.Clear();
  out->error.clear();
  v1::PluginRequest parsed;
  if (!parsed.ParseFromArray(request.data(),
                             static_cast<int>(request.size()))) {
    out->rc = ACH_RC_BAD_REQUEST;
    out->error = "request is not a PluginRequest";
    return;
  }
  auto response = protocol_->Evaluate(parsed);
  if (!response.ok()) {
    out->rc = ACH_RC_PLUGIN_ERROR;
    out->error = Truncated(response.status().message());
    return;
  }
  out->rc = ACH_RC_OK;
  // Deterministic field order, as the engine writes requests, so the same
  // answer is the same bytes.
  const std::string bytes = DeterministicBytes(*response);
  char* data = out->response.Resize(bytes.size());
  if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
}

}  // namespace achilles::plugins_internal
