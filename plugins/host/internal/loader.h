// The one thread that calls dlopen and dlclose for in-process plugins.
// Internal to plugins/host.
//
// A plugin's constructors run inside dlopen, and its destructors inside
// dlclose, with glibc's loader lock held. A constructor that never returns
// would otherwise wedge the thread that loads it (a reload, the server's
// start) and every later dlopen or dlclose: a caller dropping the last
// reference to an old plugin set, the host's destructor, exit(). Here only
// the loader thread waits on plugin code: loads are given a deadline, and
// unloads are queued and never waited for.
//
// Thread-safety: all functions are safe to call from any thread.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_LOADER_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_LOADER_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "achilles/plugin_abi.h"

namespace achilles::plugins_internal {

struct OpenedLibrary {
  void* handle = nullptr;  // Pass to CloseLibrary when done.
  const ach_type_plugin_info* info = nullptr;  // Not yet checked.
};

// dlopen(path, RTLD_NOW | RTLD_LOCAL), then looks up and calls the entry
// symbol, on the calling thread: what the loader thread runs, and what
// achilles-plugin-worker (one plugin, one thread) runs itself.
// INVALID_ARGUMENT when dlopen fails (with dlerror(), and a note when this
// process's user cannot read `path`) or there is no entry symbol.
absl::StatusOr<OpenedLibrary> OpenLibraryHere(const std::string& path);

// OpenLibraryHere on the loader thread, waiting at most `timeout`.
// DEADLINE_EXCEEDED: the plugin's code did not return in time (the library,
// should it ever return, is closed by the loader). UNAVAILABLE: the loader
// is still stuck in an earlier plugin's code, so nothing can load until it
// returns. INVALID_ARGUMENT: dlopen failed or there is no entry symbol
// (the message says which, with dlerror()).
// `name` (the plugin's file in the plugin directory) names it in messages.
absl::StatusOr<OpenedLibrary> OpenLibrary(const std::string& path,
                                          const std::string& name,
                                          absl::Duration timeout);

// Runs `run` on the loader thread (a plugin's on_init: the thread that ran
// its constructors), waiting at most `timeout`; returns what it returned.
// DEADLINE_EXCEEDED: it did not return in time (it keeps the loader until it
// does; whatever `run` captured must stay alive for it). UNAVAILABLE: the
// loader is stuck in earlier plugin code. `what` names it in messages.
absl::Status RunOnLoader(const std::string& what, absl::Duration timeout,
                         std::function<absl::Status()> run);

// Queues `before_close` (a plugin's on_shutdown; may be empty), then
// dlclose(handle), on the loader thread; returns at once. `name` as for
// OpenLibrary.
void CloseLibrary(void* handle, const std::string& name,
                  std::function<void()> before_close = nullptr);

// Waits, at most `limit`, until every queued unload has run, so a host
// going away leaves no plugin code running behind it (at exit, that code
// would race the process's own teardown). Returns early when stuck.
void WaitForLoaderIdle(absl::Duration limit);

// Non-empty while the loader is stuck past a deadline in plugin code, saying
// whose and since when. While it is, glibc's loader lock may be held
// forever: exit() would block, so a process shutting down should _exit.
std::string LoaderStuckIn();

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_LOADER_H_
