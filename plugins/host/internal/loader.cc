#include "plugins/host/internal/loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace achilles::plugins_internal {
namespace {

// How long an unload may run before it counts as stuck (nobody waits for
// it, so there is no caller's deadline).
constexpr absl::Duration kUnloadGrace = absl::Seconds(10);

struct Task {
  std::string what;  // "the constructors of PATH", for messages.
  // When it counts as stuck: a caller's deadline, or a grace from its start.
  absl::Time deadline = absl::InfiniteFuture();
  absl::Duration grace = absl::InfiniteDuration();
  std::function<void()> run;
};

class Loader {
 public:
  // Never destroyed: its thread may be stuck in plugin code at exit.
  static Loader& Get() {
    static Loader* loader = new Loader();
    return *loader;
  }

  void Post(Task task) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(task));
  }

  void WaitIdle(absl::Duration limit) {
    absl::MutexLock lock(&mu_);
    auto idle_or_stuck = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return (!running_ && queue_.empty()) ||
             (running_ && absl::Now() >= running_deadline_);
    };
    // Re-checked at least every 100 ms: being stuck is a matter of time.
    const absl::Time until = absl::Now() + limit;
    while (!idle_or_stuck() && absl::Now() < until) {
      mu_.AwaitWithTimeout(
          absl::Condition(&idle_or_stuck),
          std::min(absl::Milliseconds(100), until - absl::Now()));
    }
  }

  // What runs now, past its deadline or not; "" when idle.
  std::string Running(bool only_if_overdue) {
    absl::MutexLock lock(&mu_);
    if (!running_ || (only_if_overdue && absl::Now() < running_deadline_)) {
      return "";
    }
    return absl::StrCat(running_what_, " (since ",
                        absl::FormatTime(running_since_), ")");
  }

 private:
  Loader() {
    std::thread([this] { Serve(); }).detach();
  }

  void Serve() {
    for (;;) {
      Task task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](std::deque<Task>* q) { return !q->empty(); }, &queue_));
        task = std::move(queue_.front());
        queue_.pop_front();
        running_ = true;
        running_what_ = task.what;
        running_since_ = absl::Now();
        running_deadline_ =
            std::min(task.deadline, running_since_ + task.grace);
      }
      task.run();
      absl::MutexLock lock(&mu_);
      running_ = false;
    }
  }

  absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  std::string running_what_ ABSL_GUARDED_BY(mu_);
  absl::Time running_since_ ABSL_GUARDED_BY(mu_);
  absl::Time running_deadline_ ABSL_GUARDED_BY(mu_);
};

struct LoadState {
  absl::Mutex mu;
  bool started ABSL_GUARDED_BY(mu) = false;
  bool done ABSL_GUARDED_BY(mu) = false;
  bool abandoned ABSL_GUARDED_BY(mu) = false;
  absl::StatusOr<OpenedLibrary> result ABSL_GUARDED_BY(mu);
};

// RunOnLoader's: what the task returned, once it has. Kept as code and
// text, not as an absl::Status: a Status shares its message between copies
// through a reference count that the uninstrumented libabsl_status also
// updates, so the loader thread freeing this state while the caller still
// held a copy showed as a race under ThreadSanitizer.
struct RunState {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  absl::StatusCode code ABSL_GUARDED_BY(mu) = absl::StatusCode::kOk;
  std::string message ABSL_GUARDED_BY(mu);
};

void RunLoad(const std::string& path, const std::string& name,
             LoadState* state) {
  {
    absl::MutexLock lock(&state->mu);
    if (state->abandoned) return;  // Its caller gave up while it queued.
    state->started = true;
  }
  absl::StatusOr<OpenedLibrary> result = OpenLibraryHere(path);
  {
    absl::MutexLock lock(&state->mu);
    if (!state->abandoned) {
      state->result = std::move(result);
      state->done = true;
      return;
    }
  }
  // The caller already refused the plugin: nobody else will close it.
  if (result.ok()) dlclose(result->handle);
  Log(LogLevel::kWarning, "plugin ", name,
      " returned from loading after its deadline; unloaded again");
}

}  // namespace

absl::StatusOr<OpenedLibrary> OpenLibraryHere(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();  // Per thread: read where dlopen ran.
    std::string reason =
        absl::StrCat("dlopen failed: ", err != nullptr ? err : "unknown");
    if (access(path.c_str(), R_OK) != 0) {
      // Workers running as the plugin user read the server's copy.
      absl::StrAppend(&reason, " (uid ", getuid(), " cannot read ", path, ")");
    }
    return absl::InvalidArgumentError(reason);
  }
  dlerror();
  void* sym = dlsym(handle, ACH_ENTRY_SYMBOL);
  if (sym == nullptr) {
    dlclose(handle);
    return absl::InvalidArgumentError(
        absl::StrCat("does not export the entry symbol ", ACH_ENTRY_SYMBOL,
                     " (use ACH_EXPORT_PLUGIN)"));
  }
  OpenedLibrary lib;
  lib.handle = handle;
  lib.info = reinterpret_cast<ach_type_on_get_info>(sym)();
  return lib;
}

absl::StatusOr<OpenedLibrary> OpenLibrary(const std::string& path,
                                          const std::string& name,
                                          absl::Duration timeout) {
  if (std::string stuck = LoaderStuckIn(); !stuck.empty()) {
    return absl::UnavailableError(
        absl::StrCat("not loaded: the plugin loader is still stuck in ", stuck,
                     "; in-process mode can load nothing until that returns"));
  }
  auto state = std::make_shared<LoadState>();
  Task task;
  task.what = absl::StrCat("the constructors of ", name);
  task.deadline = absl::Now() + timeout;
  task.run = [path, name, state] { RunLoad(path, name, state.get()); };
  Loader::Get().Post(std::move(task));
  absl::MutexLock lock(&state->mu);
  if (state->mu.AwaitWithTimeout(absl::Condition(&state->done), timeout)) {
    return std::move(state->result);
  }
  state->abandoned = true;
  if (!state->started) {
    return absl::UnavailableError(
        absl::StrCat("not loaded: the plugin loader was busy for ",
                     absl::FormatDuration(timeout), " with ",
                     Loader::Get().Running(/*only_if_overdue=*/false)));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "its code did not return within ", absl::FormatDuration(timeout),
      " of dlopen (a constructor or ", ACH_ENTRY_SYMBOL,
      " hangs). In-process mode cannot stop it: no plugin can load or "
      "unload until it returns. Restart the server, and prefer "
      "--plugin_isolation=process"));
}

absl::Status RunOnLoader(const std::string& what, absl::Duration timeout,
                         std::function<absl::Status()> run) {
  if (std::string stuck = LoaderStuckIn(); !stuck.empty()) {
    return absl::UnavailableError(
        absl::StrCat("not run: the plugin loader is still stuck in ", stuck));
  }
  auto state = std::make_shared<RunState>();
  Task task;
  task.what = what;
  task.deadline = absl::Now() + timeout;
  task.run = [state, run = std::move(run)] {
    absl::Status st = run();
    absl::MutexLock lock(&state->mu);
    state->code = st.code();
    state->message = std::string(st.message());
    state->done = true;
  };
  Loader::Get().Post(std::move(task));
  absl::MutexLock lock(&state->mu);
  if (state->mu.AwaitWithTimeout(absl::Condition(&state->done), timeout)) {
    return absl::Status(state->code, state->message);
  }
  return absl::DeadlineExceededError(absl::StrCat(
      what, " did not return within ", absl::FormatDuration(timeout),
      ". In-process mode cannot stop it: no plugin can load or unload until "
      "it returns. Restart the server, and prefer --plugin_isolation=process"));
}

void CloseLibrary(void* handle, const std::string& name,
                  std::function<void()> before_close) {
  Task task;
  task.what = absl::StrCat("the destructors of ", name);
  task.grace = kUnloadGrace;
  task.run = [handle, before_close = std::move(before_close)] {
    if (before_close) before_close();
    dlclose(handle);
  };
  Loader::Get().Post(std::move(task));
}

void WaitForLoaderIdle(absl::Duration limit) { Loader::Get().WaitIdle(limit); }

std::string LoaderStuckIn() {
  return Loader::Get().Running(/*only_if_overdue=*/true);
}

}  // namespace achilles::plugins_internal
