#include "plugins/host/plugin_host.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/thread_util.h"
#include "plugins/host/internal/info_check.h"
#include "plugins/host/internal/loader.h"
#include "plugins/host/internal/plugin_buffer.h"
#include "plugins/host/internal/private_dir.h"
#include "plugins/host/internal/worker_process.h"

namespace achilles::plugins {
namespace {

namespace fs = std::filesystem;
namespace plugins_internal = ::achilles::plugins_internal;

// Who isolated workers run as: -1/-1 (the server's own user) unless the
// server is root, then `name` or "nobody", never root.
absl::Status ResolveWorkerUser(const std::string& name, int64_t* uid,
                               int64_t* gid) {
  *uid = *gid = -1;
  const bool root = geteuid() == 0;
  if (name.empty() && !root) return absl::OkStatus();
  const std::string user = name.empty() ? "nobody" : name;
  const passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plugin worker user '", user, "' does not exist (set --plugin_user)"));
  }
  if (!root) {
    if (pw->pw_uid == geteuid()) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("running plugin workers as '", user,
                     "' needs the server to run as root"));
  }
  if (pw->pw_uid == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("plugin worker user '", user,
                     "' is root; plugins must not run as "
                     "root (set --plugin_user to an unprivileged user)"));
  }
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePluginResponse(const v1::PluginResponse& response) {
  for (int i = 0; i < response.candidates_size(); ++i) {
    const auto& c = response.candidates(i);
    const std::string which =
        absl::StrCat("candidate ", i, " ('", c.id(), "')");
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
      return absl::InternalError(absl::StrCat(
          which,
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
  }
  for (const auto& c : response.contraindications()) {
    if (c.id().empty() || c.blocked_tag().empty() || c.reason().empty()) {
      return absl::InternalError(
          "a contraindication lacks its id, blocked tag or reason");
    }
  }
  return absl::OkStatus();
}

LoadedPlugin::~LoadedPlugin() {
  // Queued, not waited for: the plugin's destructors run on the loader
  // thread, so whoever lets go of a plugin last cannot be wedged by them.
  if (handle_ != nullptr) {
    plugins_internal::CloseLibrary(handle_, record_.file);
  }
}

std::string InProcessLoaderStuckIn() {
  return plugins_internal::LoaderStuckIn();
}

namespace {
struct CallState {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  bool abandoned ABSL_GUARDED_BY(mu) = false;
  ach_type_rc rc = ACH_RC_OK;
  std::string response;
  char error[ACH_MAX_ERROR_LEN] = {0};
};
}  // namespace

absl::StatusOr<v1::PluginResponse> LoadedPlugin::Call(
    const std::string& request_bytes, absl::Duration timeout) const {
  if (pool_ == nullptr) return CallInProcess(request_bytes, timeout);
  auto reply = pool_->Call(request_bytes, timeout);
  if (!reply.ok()) {
    return absl::Status(
        reply.status().code(),
        absl::StrCat("plugin ", record_.id, " ", reply.status().message()));
  }
  return Finish(reply->rc(), reply->error(), reply->response());
}

absl::StatusOr<v1::PluginResponse> LoadedPlugin::Finish(
    int rc, const std::string& error, const std::string& bytes) const {
  const std::string& id = record_.id;
  if (rc != ACH_RC_OK) {
    return absl::InternalError(absl::StrCat(
        "plugin ", id,
        " returned an error: ", error.empty() ? "(no message)" : error));
  }
  v1::PluginResponse response;
  if (!response.ParseFromString(bytes)) {
    return absl::InternalError(absl::StrCat(
        "plugin ", id, " returned bytes that are not a PluginResponse"));
  }
  if (absl::Status st = ValidatePluginResponse(response); !st.ok()) {
    return absl::InternalError(absl::StrCat(
        "plugin ", id, " returned a malformed response: ", st.message()));
  }
  return response;
}

absl::StatusOr<v1::PluginResponse> LoadedPlugin::CallInProcess(
    const std::string& request_bytes, absl::Duration timeout) const {
  const std::string& id = record_.id;
  if (stuck_calls_.load() > 0) {
    return absl::UnavailableError(
        absl::StrCat("plugin ", id,
                     " is quarantined: an earlier call is still running "
                     "past its deadline"));
  }
  auto state = std::make_shared<CallState>();
  // The worker holds the plugin (and so its library) and its own copy of the
  // request: a call abandoned at its deadline never touches freed memory or
  // unmapped code.
  std::shared_ptr<const LoadedPlugin> self = shared_from_this();
  auto call = [state, self, request = request_bytes]() {
    const ach_type_plugin_info* info = self->info_;
    uint8_t* out = nullptr;
    size_t out_size = 0;
    ach_type_rc rc = info->on_evaluate(
        reinterpret_cast<const uint8_t*>(request.data()), request.size(), &out,
        &out_size, state->error, sizeof(state->error));
    state->error[sizeof(state->error) - 1] = '\0';
    if (out != nullptr) {
      // A size beyond the buffer becomes an error, not a read of unmapped
      // memory (see plugin_buffer.h for what remains trusted).
      absl::Status copied =
          plugins_internal::CopyPluginBuffer(out, out_size, &state->response);
      info->on_free(out);
      if (!copied.ok()) {
        rc = ACH_RC_PLUGIN_ERROR;
        std::snprintf(state->error, sizeof(state->error), "%s",
                      std::string(copied.message()).c_str());
      }
    }
    absl::MutexLock lock(&state->mu);
    state->rc = rc;
    state->done = true;
    if (state->abandoned) self->stuck_calls_.fetch_sub(1);
  };
  // A refused thread is RESOURCE_EXHAUSTED for this call, not an abort.
  auto worker = StartThread(absl::StrCat("plugin ", id), std::move(call));
  if (!worker.ok()) return worker.status();
  worker->detach();
  {
    absl::MutexLock lock(&state->mu);
    if (!state->mu.AwaitWithTimeout(absl::Condition(&state->done), timeout)) {
      state->abandoned = true;
      stuck_calls_.fetch_add(1);
      return absl::DeadlineExceededError(
          absl::StrCat("plugin ", id, " did not answer within ",
                       absl::FormatDuration(timeout)));
    }
  }
  return Finish(state->rc, state->error, state->response);
}

absl::StatusOr<std::unique_ptr<PluginHost>> PluginHost::Create(
    HostOptions options) {
  std::error_code ec;
  if (!options.plugin_dir.empty() && fs::exists(options.plugin_dir, ec) &&
      !fs::is_directory(options.plugin_dir, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("plugin_dir ", options.plugin_dir, " is not a directory"));
  }
  for (auto& d : options.allowed_sha256) d = absl::AsciiStrToLower(d);
  int64_t uid = -1;
  int64_t gid = -1;
  if (options.isolation == Isolation::kProcess ||
      !options.worker_binary.empty()) {
    absl::Status st = ResolveWorkerUser(options.worker_user, &uid, &gid);
    if (!st.ok()) return st;
  }
  std::unique_ptr<PluginHost> host(new PluginHost(std::move(options)));
  host->worker_uid_ = uid;
  host->worker_gid_ = gid;
  auto private_dir =
      plugins_internal::CreatePrivateDir(fs::temp_directory_path(ec));
  if (!private_dir.ok()) return private_dir.status();
  host->private_dir_ = private_dir->path;
  host->private_dir_lock_ = private_dir->lock_fd;
  host->ShareWithWorkers(host->private_dir_, 0750);
  {
    absl::MutexLock lock(&host->mu_);
    host->current_ = std::make_shared<PluginSet>();
  }
  if (auto r = host->Reload(); !r.ok()) return r.status();
  return host;
}

PluginHost::~PluginHost() {
  {
    absl::MutexLock lock(&mu_);
    current_.reset();
  }
  if (options_.isolation == Isolation::kInProcess) {
    plugins_internal::WaitForLoaderIdle(absl::Seconds(5));
  }
  // Copies are already mapped where still in use; unlinking is safe.
  std::error_code ec;
  fs::remove_all(private_dir_, ec);
  if (private_dir_lock_ >= 0) close(private_dir_lock_);
}

std::shared_ptr<const PluginSet> PluginHost::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

std::shared_ptr<const LoadedPlugin> PluginHost::LoadFile(
    const std::string& path, PluginRecord* rec) {
  std::error_code ec;
  rec->file = path;
  auto reject = [&](std::string reason) {
    rec->loaded = false;
    rec->reason = std::move(reason);
    return nullptr;
  };
  const fs::path canon_dir = fs::canonical(options_.plugin_dir, ec);
  const fs::path canon = fs::canonical(path, ec);
  if (ec || canon.parent_path() != canon_dir) {
    return reject(absl::StrCat("resolves outside the plugin directory ",
                               canon_dir.string(),
                               " (symlinks must stay inside it)"));
  }
  struct stat st;
  if (stat(canon.c_str(), &st) != 0) {
    return reject(absl::StrCat("cannot stat: ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return reject("is not a regular file");
  if (st.st_mode & S_IWOTH) {
    return reject(
        "is world-writable; anyone could replace its code (chmod o-w)");
  }
  std::ifstream in(canon, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return reject("cannot read the file");
  rec->sha256 = Sha256Hex(bytes);
  if (!options_.allowed_sha256.empty() &&
      std::find(options_.allowed_sha256.begin(), options_.allowed_sha256.end(),
                rec->sha256) == options_.allowed_sha256.end()) {
    return reject(absl::StrCat("SHA-256 ", rec->sha256,
                               " is not on the server's plugin allowlist"));
  }
  auto copy = PrivateCopy(bytes, rec->sha256);
  if (!copy.ok()) return reject(std::string(copy.status().message()));
  std::shared_ptr<LoadedPlugin> plugin(new LoadedPlugin());
  plugin->loaded_path_ = *copy;
  plugin->record_.file = path;  // Names it in the loader's messages.
  plugins_internal::Manifest m;
  absl::Status loaded = options_.isolation == Isolation::kProcess
                            ? StartWorkers(plugin.get(), rec, &m)
                            : OpenInProcess(plugin.get(), rec, &m);
  if (!loaded.ok()) return reject(std::string(loaded.message()));
  rec->id = m.id;
  rec->version = m.version;
  rec->display_name = m.display_name;
  rec->protocols = m.protocols;
  rec->event_kinds = m.event_kinds;
  rec->loaded = true;
  plugin->record_ = *rec;
  return plugin;
}

void PluginHost::ShareWithWorkers(const std::string& path, mode_t mode) const {
  // Group access for the workers' user only: it may read (and, for the
  // directory, search), never write; nobody else may do either.
  if (worker_gid_ < 0) return;
  if (chown(path.c_str(), static_cast<uid_t>(-1),
            static_cast<gid_t>(worker_gid_)) != 0 ||
      chmod(path.c_str(), mode) != 0) {
    Log(LogLevel::kWarning, "cannot share ", path,
        " with the plugin workers' user: ", std::strerror(errno));
  }
}

absl::StatusOr<std::string> PluginHost::PrivateCopy(
    const std::string& bytes, const std::string& sha256) const {
  // Load the exact bytes we hashed, from a path only we write.
  const std::string copy = absl::StrCat(private_dir_, "/", sha256, ".so");
  std::error_code ec;
  if (fs::exists(copy, ec)) return copy;
  const std::string tmp = copy + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      return absl::InternalError("cannot copy to the private plugin directory");
    }
  }
  chmod(tmp.c_str(), 0500);
  ShareWithWorkers(tmp, 0540);
  fs::rename(tmp, copy, ec);
  if (ec) {
    return absl::InternalError("cannot copy to the private plugin directory");
  }
  return copy;
}

plugins_internal::WorkerConfig PluginHost::WorkerConfigFor(
    const std::string& copy) const {
  plugins_internal::WorkerConfig config;
  config.worker_binary = options_.worker_binary;
  config.plugin_path = copy;
  config.memory_limit_bytes = options_.worker_memory_limit_bytes;
  config.cpu_seconds = options_.worker_cpu_seconds;
  config.run_as_uid = worker_uid_;
  config.run_as_gid = worker_gid_;
  config.max_workers =
      options_.workers_per_plugin > 0
          ? options_.workers_per_plugin
          : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  return config;
}

absl::Status PluginHost::StartWorkers(LoadedPlugin* plugin, PluginRecord* rec,
                                      plugins_internal::Manifest* m) const {
  // Never dlopen into the server: the worker loads and checks it.
  const plugins_internal::WorkerConfig config =
      WorkerConfigFor(plugin->loaded_path_);
  v1::WorkerHello hello;
  auto worker = plugins_internal::WorkerProcess::Start(config, &hello);
  if (!worker.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "crashed or hung while loading: ", worker.status().message()));
  }
  rec->abi_version = hello.abi_version();
  if (!hello.ok()) return absl::FailedPreconditionError(hello.reason());
  if (!hello.reason().empty()) {  // Sandbox steps this kernel did not allow.
    Log(LogLevel::kWarning, "plugin ", rec->file, ": ", hello.reason());
  }
  m->id = hello.plugin_id();
  m->version = hello.version();
  m->display_name = hello.display_name();
  m->protocols.assign(hello.protocols().begin(), hello.protocols().end());
  m->event_kinds.assign(hello.event_kinds().begin(), hello.event_kinds().end());
  plugin->pool_ = std::make_unique<plugins_internal::WorkerPool>(config);
  plugin->pool_->Adopt(*std::move(worker));
  return absl::OkStatus();
}

absl::Status PluginHost::TrialLoad(const std::string& copy) const {
  // glibc runs constructors holding its loader lock, which every thread
  // needs now and then (a first thread_local, a dlclose): one that hangs
  // in the server wedges far more than the reload. In a worker it wedges
  // nothing, and a crash there costs nothing.
  plugins_internal::WorkerConfig config = WorkerConfigFor(copy);
  config.start_timeout = options_.load_timeout;
  v1::WorkerHello hello;
  auto worker = plugins_internal::WorkerProcess::Start(config, &hello);
  if (!worker.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "crashed or hung while loading in a trial worker process, so it was "
        "not loaded into the server: ",
        worker.status().message()));
  }
  // Refusals are left to the checks in the server, which give the same
  // reasons.
  return absl::OkStatus();
}

absl::Status PluginHost::OpenInProcess(LoadedPlugin* plugin, PluginRecord* rec,
                                       plugins_internal::Manifest* m) const {
  if (!options_.worker_binary.empty()) {
    absl::Status st = TrialLoad(plugin->loaded_path_);
    if (!st.ok()) return st;
  }
  auto lib = plugins_internal::OpenLibrary(plugin->loaded_path_, rec->file,
                                           options_.load_timeout);
  if (!lib.ok()) return lib.status();
  plugin->handle_ = lib->handle;  // From here on, the destructor closes it.
  absl::Status st = plugins_internal::CheckInfo(lib->info, m);
  rec->abi_version = m->abi_version;
  if (!st.ok()) return st;
  plugin->info_ = lib->info;
  return absl::OkStatus();
}

absl::StatusOr<ReloadResult> PluginHost::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  std::shared_ptr<const PluginSet> old = Current();
  auto next = std::make_shared<PluginSet>();
  std::error_code ec;
  std::vector<std::string> files;
  if (!options_.plugin_dir.empty() &&
      fs::is_directory(options_.plugin_dir, ec)) {
    for (const auto& entry : fs::directory_iterator(options_.plugin_dir, ec)) {
      if (entry.path().extension() == ".so") {
        files.push_back(fs::absolute(entry.path()).lexically_normal().string());
      }
    }
    if (ec) {
      return absl::InternalError(absl::StrCat(
          "cannot list plugin_dir ", options_.plugin_dir, ": ", ec.message()));
    }
  }
  std::sort(files.begin(), files.end());

  // Reuse libraries whose bytes have not changed, so a reload does not
  // disturb plugins nobody touched.
  std::map<std::string, std::shared_ptr<const LoadedPlugin>> by_sha;
  for (const auto& p : old->plugins) by_sha[p->record().sha256] = p;

  std::set<std::string> ids;
  for (const std::string& file : files) {
    PluginRecord rec;
    std::shared_ptr<const LoadedPlugin> plugin;
    std::string sha;
    if (auto digest = Sha256FileHex(file); digest.ok()) sha = *digest;
    if (auto it = by_sha.find(sha); !sha.empty() && it != by_sha.end() &&
                                    it->second->record().file == file) {
      plugin = it->second;
      rec = plugin->record();
    } else {
      plugin = LoadFile(file, &rec);
    }
    if (plugin != nullptr && !ids.insert(rec.id).second) {
      rec.loaded = false;
      rec.reason = absl::StrCat("duplicates plugin id '", rec.id,
                                "' already loaded from another file");
      plugin = nullptr;
    }
    if (plugin != nullptr) next->plugins.push_back(plugin);
    next->records.push_back(rec);
  }
  std::sort(next->plugins.begin(), next->plugins.end(),
            [](const auto& a, const auto& b) {
              return a->record().id < b->record().id;
            });

  ReloadResult result;
  std::map<std::string, std::string> old_ids, new_ids;  // id -> sha
  for (const auto& p : old->plugins)
    old_ids[p->record().id] = p->record().sha256;
  for (const auto& p : next->plugins) {
    new_ids[p->record().id] = p->record().sha256;
  }
  for (const auto& [id, sha] : new_ids) {
    auto it = old_ids.find(id);
    if (it == old_ids.end()) {
      result.added.push_back(id);
    } else if (it->second != sha) {
      result.changed.push_back(id);
    }
  }
  for (const auto& [id, sha] : old_ids) {
    if (!new_ids.count(id)) result.removed.push_back(id);
  }
  // Every scan reports what it loaded and what it refused, whoever asked
  // for it (start-up, SIGHUP or the ReloadPlugins RPC).
  std::set<std::string> reloaded(result.added.begin(), result.added.end());
  reloaded.insert(result.changed.begin(), result.changed.end());
  for (const auto& rec : next->records) {
    if (!rec.loaded) {
      Log(LogLevel::kWarning, "plugin rejected: ", rec.file, ": ", rec.reason);
    } else if (reloaded.count(rec.id)) {
      Log(LogLevel::kInfo, "plugin loaded: ", rec.id, " ", rec.version,
          " from ", rec.file,
          options_.isolation == Isolation::kProcess
              ? " (isolated worker process)"
              : "");
    }
  }
  for (const auto& id : result.removed) {
    Log(LogLevel::kInfo, "plugin unloaded: ", id);
  }
  {
    absl::MutexLock lock(&mu_);
    current_ = std::move(next);
  }
  return result;
}

}  // namespace achilles::plugins
