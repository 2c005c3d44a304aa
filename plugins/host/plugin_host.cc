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
#include "plugins/host/internal/in_process_runner.h"
#include "plugins/host/internal/loader.h"
#include "plugins/host/internal/plugin_library.h"
#include "plugins/host/internal/plugin_metrics.h"
#include "plugins/host/internal/private_dir.h"
#include "plugins/host/internal/protocol_library.h"
#include "plugins/host/internal/worker_process.h"

namespace achilles::plugins {
namespace {

namespace fs = std::filesystem;
namespace pi = ::achilles::plugins_internal;

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

// What a reload added, removed and changed, by plugin id.
ReloadResult Compare(const PluginSet& old, const PluginSet& next) {
  std::map<std::string, std::string> old_ids, new_ids;  // id -> sha
  for (const auto& p : old.plugins) {
    old_ids[p->record().id] = p->record().sha256;
  }
  for (const auto& p : next.plugins) {
    new_ids[p->record().id] = p->record().sha256;
  }
  ReloadResult result;
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
  return result;
}

// Every scan reports what it loaded and what it refused, whoever asked for
// it (start-up, SIGHUP or the ReloadPlugins RPC).
void LogScan(const PluginSet& next, const ReloadResult& result,
             Isolation isolation) {
  std::set<std::string> reloaded(result.added.begin(), result.added.end());
  reloaded.insert(result.changed.begin(), result.changed.end());
  for (const auto& rec : next.records) {
    if (!rec.loaded) {
      pi::RecordPluginLoad("refused", rec.id, rec.version, rec.file,
                           rec.reason);
    } else if (reloaded.count(rec.id)) {
      pi::RecordPluginLoad("loaded", rec.id, rec.version, rec.file,
                           isolation == Isolation::kProcess
                               ? "isolated worker process"
                               : "in process");
    }
  }
  for (const auto& id : result.removed) {
    pi::RecordPluginLoad("unloaded", id, "", "", "");
  }
}

}  // namespace

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
  auto private_dir = pi::CreatePrivateDir(fs::temp_directory_path(ec));
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
    pi::WaitForLoaderIdle(absl::Seconds(5));
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

absl::Status PluginHost::Admit(const std::string& path, std::string* bytes,
                               PluginRecord* rec) const {
  std::error_code ec;
  const fs::path canon_dir = fs::canonical(options_.plugin_dir, ec);
  const fs::path canon = fs::canonical(path, ec);
  if (ec || canon.parent_path() != canon_dir) {
    return absl::FailedPreconditionError(
        absl::StrCat("resolves outside the plugin directory ",
                     canon_dir.string(), " (symlinks must stay inside it)"));
  }
  struct stat st;
  if (stat(canon.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot stat: ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError("is not a regular file");
  }
  if (st.st_mode & S_IWOTH) {
    return absl::FailedPreconditionError(
        "is world-writable; anyone could replace its code (chmod o-w)");
  }
  std::ifstream in(canon, std::ios::binary);
  bytes->assign(std::istreambuf_iterator<char>(in),
                std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return absl::FailedPreconditionError("cannot read the file");
  }
  rec->sha256 = Sha256Hex(*bytes);
  if (!options_.allowed_sha256.empty() &&
      std::find(options_.allowed_sha256.begin(), options_.allowed_sha256.end(),
                rec->sha256) == options_.allowed_sha256.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "SHA-256 ", rec->sha256, " is not on the server's plugin allowlist"));
  }
  return absl::OkStatus();
}

std::shared_ptr<const LoadedPlugin> PluginHost::LoadFile(
    const std::string& path, PluginRecord* rec) {
  rec->file = path;
  auto reject = [&](absl::string_view reason) {
    // Of a refused manifest only the ABI version is kept: the rest was
    // never accepted, and a listing must not pass it off as the plugin's.
    PluginManifest refused;
    refused.abi_version = rec->abi_version;
    static_cast<PluginManifest&>(*rec) = std::move(refused);
    rec->loaded = false;
    rec->reason = std::string(reason);
    return nullptr;
  };
  std::string bytes;
  if (absl::Status st = Admit(path, &bytes, rec); !st.ok()) {
    return reject(st.message());
  }
  // The worker tells a protocol file from a library by its name.
  auto copy = PrivateCopy(
      bytes, rec->sha256,
      pi::IsProtocolFile(path) ? protocol_file::kProtocolFileSuffix : ".so");
  if (!copy.ok()) return reject(copy.status().message());
  PluginManifest& manifest = *rec;
  auto runner = pi::IsProtocolFile(path) ? OpenProtocol(*copy, path, &manifest)
                : options_.isolation == Isolation::kProcess
                    ? StartWorkers(*copy, path, &manifest)
                    : OpenInProcess(*copy, path, &manifest);
  if (!runner.ok()) return reject(runner.status().message());
  rec->loaded = true;
  std::shared_ptr<LoadedPlugin> plugin(new LoadedPlugin());
  plugin->runner_ = *std::move(runner);
  plugin->isolated_ = options_.isolation == Isolation::kProcess;
  plugin->record_ = *rec;
  plugin->event_filter_ = EventKindFilter::For(manifest);
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
    const std::string& bytes, const std::string& sha256,
    absl::string_view suffix) const {
  // Load the exact bytes we hashed, from a path only we write.
  const std::string copy = absl::StrCat(private_dir_, "/", sha256, suffix);
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

pi::WorkerConfig PluginHost::WorkerConfigFor(const std::string& copy) const {
  pi::WorkerConfig config;
  config.worker_binary = options_.worker_binary;
  config.plugin_path = copy;
  config.memory_limit_bytes = options_.worker_memory_limit_bytes;
  config.cpu_seconds = options_.worker_cpu_seconds;
  config.run_as_uid = worker_uid_;
  config.run_as_gid = worker_gid_;
  config.max_workers = CallsPerPlugin();
  return config;
}

int PluginHost::CallsPerPlugin() const {
  return options_.workers_per_plugin > 0
             ? options_.workers_per_plugin
             : std::max(2,
                        static_cast<int>(std::thread::hardware_concurrency()));
}

absl::StatusOr<std::shared_ptr<pi::PluginRunner>> PluginHost::StartWorkers(
    const std::string& copy, const std::string& file,
    PluginManifest* manifest) const {
  // Never dlopen into the server: the worker loads and checks it.
  pi::WorkerConfig config = WorkerConfigFor(copy);
  internal::WorkerHello hello;
  auto worker = pi::WorkerProcess::Start(config, &hello);
  if (!worker.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "crashed or hung while loading: ", worker.status().message()));
  }
  manifest->abi_version = hello.abi_version();
  if (!hello.ok()) return absl::FailedPreconditionError(hello.reason());
  if (!hello.reason().empty()) {  // Sandbox steps this kernel did not allow.
    Log(LogLevel::kWarning, "plugin ", file, ": ", hello.reason());
  }
  *manifest = pi::ManifestOf(hello);
  config.plugin_id = manifest->id;
  auto pool = std::make_shared<pi::WorkerPool>(config);
  pool->Adopt(*std::move(worker));
  return pool;
}

absl::Status PluginHost::TrialLoad(const std::string& copy) const {
  // glibc runs constructors holding its loader lock, which every thread
  // needs now and then (a first thread_local, a dlclose): one that hangs
  // in the server wedges far more than the reload. In a worker it wedges
  // nothing, and a crash there costs nothing.
  pi::WorkerConfig config = WorkerConfigFor(copy);
  config.start_timeout = options_.load_timeout;
  internal::WorkerHello hello;
  auto worker = pi::WorkerProcess::Start(config, &hello);
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

absl::StatusOr<std::shared_ptr<pi::PluginRunner>> PluginHost::OpenInProcess(
    const std::string& copy, const std::string& file,
    PluginManifest* manifest) const {
  if (!options_.worker_binary.empty()) {
    if (absl::Status st = TrialLoad(copy); !st.ok()) return st;
  }
  auto library = pi::PluginLibrary::Open(
      copy, file, pi::PluginLibrary::Opener::kLoaderThread,
      options_.load_timeout, manifest);
  if (!library.ok()) return library.status();
  return std::make_shared<pi::InProcessRunner>(*std::move(library),
                                               CallsPerPlugin());
}

absl::StatusOr<std::shared_ptr<pi::PluginRunner>> PluginHost::OpenProtocol(
    const std::string& copy, const std::string& file,
    PluginManifest* manifest) const {
  // Read and checked in the server in both modes, so a refusal names the
  // file the clinic wrote (with line and column) rather than the private
  // copy. Reading compiles the expressions but runs none of them; rules
  // run where plugins run: in workers when isolated.
  auto protocol = pi::ProtocolLibrary::Open(
      copy, fs::path(file).filename().string(), manifest);
  if (!protocol.ok()) return protocol.status();
  if (options_.isolation == Isolation::kProcess) {
    return StartWorkers(copy, file, manifest);
  }
  return std::make_shared<pi::InProcessRunner>(*std::move(protocol),
                                               CallsPerPlugin());
}

absl::StatusOr<std::vector<std::string>> PluginHost::ListFiles() const {
  std::error_code ec;
  std::vector<std::string> files;
  if (options_.plugin_dir.empty() ||
      !fs::is_directory(options_.plugin_dir, ec)) {
    return files;
  }
  for (const auto& entry : fs::directory_iterator(options_.plugin_dir, ec)) {
    if (entry.path().extension() == ".so" ||
        pi::IsProtocolFile(entry.path().string())) {
      files.push_back(fs::absolute(entry.path()).lexically_normal().string());
    }
  }
  if (ec) {
    return absl::InternalError(absl::StrCat(
        "cannot list plugin_dir ", options_.plugin_dir, ": ", ec.message()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::shared_ptr<const LoadedPlugin> PluginHost::Reuse(const PluginSet& old,
                                                      const std::string& file,
                                                      PluginRecord* rec) {
  // Reuse libraries whose bytes have not changed, so a reload does not
  // disturb plugins nobody touched.
  auto digest = Sha256FileHex(file);
  for (const auto& p : old.plugins) {
    if (digest.ok() && p->record().sha256 == *digest &&
        p->record().file == file) {
      *rec = p->record();
      return p;
    }
  }
  return LoadFile(file, rec);
}

absl::StatusOr<ReloadResult> PluginHost::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  std::shared_ptr<const PluginSet> old = Current();
  auto files = ListFiles();
  if (!files.ok()) return files.status();
  auto next = std::make_shared<PluginSet>();
  std::set<std::string> ids;
  for (const std::string& file : *files) {
    PluginRecord rec;
    std::shared_ptr<const LoadedPlugin> plugin = Reuse(*old, file, &rec);
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
  ReloadResult result = Compare(*old, *next);
  LogScan(*next, result, options_.isolation);
  {
    absl::MutexLock lock(&mu_);
    current_ = std::move(next);
  }
  return result;
}

}  // namespace achilles::plugins
