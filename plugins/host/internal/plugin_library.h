// The one seam to a plugin's shared object, for the host (in-process
// plugins) and achilles-plugin-worker alike: open the library, check its
// info struct and run its on_init (plugin_lifecycle.h); call on_evaluate, copy
// the response out without trusting the size the plugin claims, and hand the
// buffer back to on_free. Also the worker's hello, which carries what opening
// found to the host. Internal to plugins/host.
//
// Thread-safety: Evaluate may run on several threads at once (the ABI
// allows it).
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_LIBRARY_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_LIBRARY_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "achilles/internal/worker.pb.h"
#include "achilles/plugin_abi.h"
#include "achilles/v1/plugin.pb.h"
#include "plugins/host/internal/byte_buffer.h"
#include "plugins/host/internal/plugin_code.h"
#include "plugins/host/internal/plugin_lifecycle.h"
#include "plugins/host/plugin_host.h"

namespace achilles::plugins_internal {

// What one on_evaluate call gave back.
struct PluginReply {
  int rc = ACH_RC_OK;   // ach_type_rc.
  std::string error;    // The plugin's reason when rc is not ACH_RC_OK.
  ByteBuffer response;  // The serialized PluginResponse, copied out.
};

class PluginLibrary final : public PluginCode {
 public:
  enum class Opener {
    // dlopen on the calling thread, never closed: the worker, where the
    // plugin lives as long as the process.
    kHere,
    // dlopen on the loader thread within the timeout, dlclose queued there
    // by the destructor (loader.h): the server.
    kLoaderThread,
  };

  // Opens `path` (named `name` in messages), checks its info struct and
  // runs on_init (kLoaderThread: on the loader thread, within `timeout`).
  // FAILED_PRECONDITION: refused by the check (info_check.h) or by on_init;
  // INVALID_ARGUMENT: dlopen failed or no entry symbol; with
  // kLoaderThread also loader.h's DEADLINE_EXCEEDED and UNAVAILABLE.
  // Fills `manifest` as far as it got, its abi_version even on refusal.
  static absl::StatusOr<std::unique_ptr<PluginLibrary>> Open(
      const std::string& path, const std::string& name, Opener opener,
      absl::Duration timeout, plugins::PluginManifest* manifest);
  // Runs on_shutdown (after a successful on_init) before the library goes:
  // at once for kHere, queued with the dlclose for kLoaderThread.
  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  // Runs on_evaluate on `request` and fills `out` (reusing its buffer). A
  // claimed size that cannot be read (plugin_buffer.h) becomes
  // ACH_RC_PLUGIN_ERROR with the reason; the plugin's buffer is freed
  // either way.
  void Evaluate(absl::string_view request, PluginReply* out) const override;

 private:
  PluginLibrary(void* handle, Opener opener, std::string name)
      : handle_(handle), opener_(opener), name_(std::move(name)) {}
  // on_init, where `opener` says.
  absl::Status Init(absl::Duration timeout);
  void* handle_;
  std::shared_ptr<PluginLifecycle> lifecycle_;  // Once the check passed.
  Opener opener_;
  std::string name_;
};

// The worker's hello for what Open gave: the manifest when `opened` is OK,
// the reason (and the ABI version) otherwise.
achilles::internal::WorkerHello HelloFor(
    const absl::Status& opened, const plugins::PluginManifest& manifest);
// The manifest an ok hello carries.
plugins::PluginManifest ManifestOf(
    const achilles::internal::WorkerHello& hello);

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_LIBRARY_H_
