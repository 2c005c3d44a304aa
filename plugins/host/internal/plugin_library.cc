#include "plugins/host/internal/plugin_library.h"

#include <dlfcn.h>

#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "plugins/host/internal/info_check.h"
#include "plugins/host/internal/loader.h"
#include "plugins/host/internal/plugin_buffer.h"

namespace achilles::plugins_internal {

absl::StatusOr<std::unique_ptr<PluginLibrary>> PluginLibrary::Open(
    const std::string& path, const std::string& name, Opener opener,
    absl::Duration timeout, plugins::PluginManifest* manifest) {
  absl::StatusOr<OpenedLibrary> lib = opener == Opener::kHere
                                          ? OpenLibraryHere(path)
                                          : OpenLibrary(path, name, timeout);
  if (!lib.ok()) return lib.status();
  // Owned from here on, so a refused plugin is closed (in the server) like
  // any other.
  std::unique_ptr<PluginLibrary> library(
      new PluginLibrary(lib->handle, opener, name));
  ach_type_plugin_info entry;
  if (absl::Status st = CheckInfo(lib->info, manifest, &entry); !st.ok()) {
    return st;
  }
  library->lifecycle_ = std::make_shared<PluginLifecycle>(entry, manifest->id);
  if (absl::Status st = library->Init(timeout); !st.ok()) return st;
  return library;
}

absl::Status PluginLibrary::Init(absl::Duration timeout) {
  if (opener_ == Opener::kHere) return lifecycle_->Init();
  // On the thread that ran the constructors, with the same deadline: an
  // on_init that hangs is a constructor that hangs.
  std::shared_ptr<PluginLifecycle> lifecycle = lifecycle_;
  return RunOnLoader(absl::StrCat("on_init of ", name_), timeout,
                     [lifecycle] { return lifecycle->Init(); });
}

PluginLibrary::~PluginLibrary() {
  if (opener_ == Opener::kHere) {
    if (lifecycle_ != nullptr) lifecycle_->Shutdown();
    return;
  }
  // Queued, not waited for: the plugin's on_shutdown and destructors run on
  // the loader thread, so whoever lets go of a plugin last cannot be wedged
  // by them; the queue runs them after an on_init still running.
  std::function<void()> shutdown;
  if (lifecycle_ != nullptr) {
    shutdown = [lifecycle = lifecycle_] { lifecycle->Shutdown(); };
  }
  CloseLibrary(handle_, name_, std::move(shutdown));
}

void PluginLibrary::Evaluate(absl::string_view request,
                             PluginReply* out) const {
  uint8_t* response = nullptr;
  size_t size = 0;
  char error[ACH_MAX_ERROR_LEN] = {0};
  out->rc = lifecycle_->Evaluate(
      reinterpret_cast<const uint8_t*>(request.data()), request.size(),
      &response, &size, error, sizeof error);
  error[sizeof error - 1] = '\0';
  // Raw bytes from the plugin; they reach the evaluation's PluginRun.error
  // (and the worker's reply), proto3 strings that must be UTF-8.
  out->error = ToValidUtf8(error);
  out->response.Clear();
  if (response == nullptr) return;
  // A size beyond the buffer becomes an error, not a read of unmapped
  // memory (see plugin_buffer.h for what remains trusted).
  absl::Status copied = CopyPluginBuffer(response, size, &out->response);
  lifecycle_->Free(response);
  if (!copied.ok()) {
    out->rc = ACH_RC_PLUGIN_ERROR;
    out->error = std::string(copied.message());
  }
}

internal::WorkerHello HelloFor(const absl::Status& opened,
                               const plugins::PluginManifest& manifest) {
  internal::WorkerHello hello;
  hello.set_abi_version(manifest.abi_version);
  if (!opened.ok()) {
    hello.set_reason(std::string(opened.message()));
    return hello;
  }
  hello.set_ok(true);
  hello.set_plugin_id(manifest.id);
  hello.set_version(manifest.version);
  hello.set_display_name(manifest.display_name);
  for (const auto& p : manifest.protocols) hello.add_protocols(p);
  for (const auto& k : manifest.event_kinds) hello.add_event_kinds(k);
  return hello;
}

plugins::PluginManifest ManifestOf(const internal::WorkerHello& hello) {
  plugins::PluginManifest m;
  m.id = hello.plugin_id();
  m.version = hello.version();
  m.display_name = hello.display_name();
  m.abi_version = hello.abi_version();
  m.protocols.assign(hello.protocols().begin(), hello.protocols().end());
  m.event_kinds.assign(hello.event_kinds().begin(), hello.event_kinds().end());
  return m;
}

}  // namespace achilles::plugins_internal
