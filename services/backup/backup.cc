#include "services/backup/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "services/security/security.h"

namespace achilles::backup {
namespace fs = std::filesystem;

bool IsReservedName(const std::string& name) {
  return name == kEngineDir || name == kErasureLog || name == kSecretCopy ||
         name == std::string(kErasureLog) + ".tmp" ||
         name == std::string(kSecretCopy) + ".tmp";
}

absl::StatusOr<std::unique_ptr<ErasureLog>> ErasureLog::Open(
    const std::string& backup_dir) {
  std::error_code ec;
  fs::create_directories(backup_dir, ec);
  const std::string path = absl::StrCat(backup_dir, "/", kErasureLog);
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<ErasureLog>(new ErasureLog(fd, path));
}

ErasureLog::~ErasureLog() { close(fd_); }

absl::Status ErasureLog::Record(const std::string& clinic,
                                const std::string& pseudonym,
                                int64_t at_micros) {
  // Clinic ids and pseudonyms hold no tab or newline (validated, hex).
  const std::string line =
      absl::StrCat(at_micros, "\t", clinic, "\t", pseudonym, "\n");
  absl::MutexLock lock(&mu_);
  if (write(fd_, line.data(), line.size()) !=
          static_cast<ssize_t>(line.size()) ||
      fsync(fd_) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot record the erasure in ", path_, ": ",
                     std::strerror(errno), "; nothing was erased"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::set<std::pair<std::string, std::string>>> ErasureLog::Read(
    const std::string& backup_dir) {
  const std::string path = absl::StrCat(backup_dir, "/", kErasureLog);
  std::set<std::pair<std::string, std::string>> out;
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::vector<std::string> parts = absl::StrSplit(line, '\t');
    int64_t at = 0;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &at) ||
        parts[1].empty() || parts[2].empty()) {
      return absl::DataLossError(
          absl::StrCat(path, ":", n, ": not an erasure record"));
    }
    out.emplace(parts[1], parts[2]);
  }
  return out;
}

namespace {

absl::Status CopyFile(const std::string& from, const std::string& to) {
  const std::string tmp = to + ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  if (!fs::copy_file(from, tmp, ec) ||
      (fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write,
                       fs::perm_options::replace, ec),
       ec)) {
    return absl::InternalError(
        absl::StrCat("cannot copy ", from, " to ", to, ": ", ec.message()));
  }
  const int fd = open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  const bool synced = fd >= 0 && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  fs::rename(tmp, to, ec);
  if (!synced || ec) {
    return absl::InternalError(absl::StrCat("cannot write ", to));
  }
  return absl::OkStatus();
}

// Erases, in the restored store, every patient of `clinic` whose
// pseudonym the log names.
absl::StatusOr<int> Reapply(storage::TimelineStore* store,
                            const security::ServerSecret& secret,
                            const std::string& clinic,
                            const std::set<std::string>& pseudonyms) {
  std::vector<std::string> erase;
  absl::Status st = store->ForEachPatientId(
      clinic, [&](const std::string& id) -> absl::Status {
        if (pseudonyms.count(secret.Pseudonym(clinic, id))) {
          erase.push_back(id);
        }
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  for (const std::string& id : erase) {
    auto deleted = store->DeletePatient(clinic, id);
    if (!deleted.ok() && !absl::IsNotFound(deleted.status())) {
      return deleted.status();
    }
  }
  return static_cast<int>(erase.size());
}

absl::StatusOr<int> ReapplyAll(
    const std::string& data_dir,
    const std::set<std::pair<std::string, std::string>>& erasures) {
  auto secret =
      security::ServerSecret::LoadOrCreate(data_dir + "/server.secret");
  if (!secret.ok()) return secret.status();
  storage::StoreOptions options;
  options.path = data_dir;
  options.create_if_missing = false;
  auto store = storage::OpenRocksDbStore(options);
  if (!store.ok()) return store.status();
  std::map<std::string, std::set<std::string>> by_clinic;
  for (const auto& [clinic, pseudonym] : erasures) {
    by_clinic[clinic].insert(pseudonym);
  }
  int total = 0;
  for (const auto& [clinic, pseudonyms] : by_clinic) {
    auto n = Reapply(store->get(), *secret, clinic, pseudonyms);
    if (!n.ok()) return n.status();
    total += *n;
  }
  if (absl::Status st = (*store)->Flush(); !st.ok()) return st;
  return total;
}

}  // namespace

absl::Status KeepSecretCopy(const std::string& data_dir,
                            const std::string& backup_dir) {
  const std::string copy = absl::StrCat(backup_dir, "/", kSecretCopy);
  std::error_code ec;
  if (fs::exists(copy, ec)) return absl::OkStatus();
  return CopyFile(data_dir + "/server.secret", copy);
}

absl::StatusOr<RestoreReport> Restore(const std::string& backup_dir,
                                      uint32_t id,
                                      const std::string& data_dir) {
  auto erasures = ErasureLog::Read(backup_dir);
  if (!erasures.ok()) return erasures.status();
  const std::string secret = absl::StrCat(backup_dir, "/", kSecretCopy);
  std::error_code ec;
  const bool have_secret = fs::exists(secret, ec);
  if (!erasures->empty() && !have_secret) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the erasure log in ", backup_dir, " names ", erasures->size(),
        " erasure(s) but there is no ", kSecretCopy,
        " beside it to recognise the patients: restore it from an off-host "
        "copy first"));
  }
  RestoreReport report;
  auto restored = storage::RestoreBackup(
      absl::StrCat(backup_dir, "/", kEngineDir), id, data_dir);
  if (!restored.ok()) return restored.status();
  report.backup = *restored;
  if (have_secret) {
    if (absl::Status st = CopyFile(secret, data_dir + "/server.secret");
        !st.ok()) {
      return st;
    }
  }
  auto reapplied = ReapplyAll(data_dir, *erasures);
  if (!reapplied.ok()) return reapplied.status();
  report.erasures_reapplied = *reapplied;
  LogEvent(LogLevel::kInfo, "backup restored",
           {{"backup", static_cast<int64_t>(report.backup.id)},
            {"data_dir", data_dir},
            {"erasures_reapplied", report.erasures_reapplied}});
  return report;
}

}  // namespace achilles::backup
