#include "storage/internal/backups.h"

#include <rocksdb/env.h>
#include <rocksdb/utilities/backup_engine.h>

#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace achilles::storage_internal {
namespace {

absl::Status FromIo(const rocksdb::IOStatus& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  return absl::UnavailableError(msg);
}

storage::BackupInfo Info(const rocksdb::BackupInfo& b) {
  storage::BackupInfo out;
  out.id = b.backup_id;
  out.created_unix_seconds = b.timestamp;
  out.size_bytes = b.size;
  out.files = b.number_files;
  return out;
}

rocksdb::BackupEngineOptions EngineOptions(const std::string& dir) {
  rocksdb::BackupEngineOptions o(dir);
  o.share_table_files = true;  // Incremental: unchanged tables are shared.
  o.sync = true;               // A finished backup survives power loss.
  o.max_background_operations = 1;
  return o;
}

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenReadOnly(
    const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir + "/meta", ec)) {
    return absl::NotFoundError(absl::StrCat("no backups in ", dir));
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  absl::Status st =
      FromIo(rocksdb::BackupEngineReadOnly::Open(EngineOptions(dir),
                                                 rocksdb::Env::Default(), &raw),
             absl::StrCat("open backups in ", dir));
  if (!st.ok()) return st;
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(raw);
}

ABSL_CONST_INIT absl::Mutex g_create_mu(absl::kConstInit);

}  // namespace

absl::StatusOr<storage::BackupInfo> CreateBackupOf(rocksdb::DB* db,
                                                   const std::string& dir,
                                                   int keep) {
  if (keep < 1) return absl::InvalidArgumentError("keep: at least 1");
  // BackupEngine allows one writer per directory.
  absl::MutexLock lock(&g_create_mu);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  rocksdb::BackupEngine* raw = nullptr;
  absl::Status st =
      FromIo(rocksdb::BackupEngine::Open(EngineOptions(dir),
                                         rocksdb::Env::Default(), &raw),
             absl::StrCat("open backups in ", dir));
  if (!st.ok()) return st;
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  rocksdb::CreateBackupOptions create;
  create.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  st = FromIo(engine->CreateNewBackupWithMetadata(create, db, "", &id),
              absl::StrCat("back up into ", dir));
  if (!st.ok()) return st;
  st = FromIo(engine->PurgeOldBackups(static_cast<uint32_t>(keep)),
              absl::StrCat("delete old backups in ", dir));
  if (!st.ok()) return st;
  rocksdb::BackupInfo info;
  if (!engine->GetBackupInfo(id, &info).ok()) {
    return absl::InternalError(
        absl::StrCat("backup ", id, " was made but cannot be read back"));
  }
  return Info(info);
}

}  // namespace achilles::storage_internal

namespace achilles::storage {

absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& dir) {
  auto engine = storage_internal::OpenReadOnly(dir);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> infos;
  (*engine)->GetBackupInfo(&infos);
  std::vector<BackupInfo> out;
  for (const auto& b : infos) out.push_back(storage_internal::Info(b));
  return out;
}

absl::Status VerifyBackup(const std::string& dir, uint32_t id) {
  auto engine = storage_internal::OpenReadOnly(dir);
  if (!engine.ok()) return engine.status();
  rocksdb::BackupInfo info;
  if (!(*engine)->GetBackupInfo(id, &info).ok()) {
    return absl::NotFoundError(absl::StrCat("no backup ", id, " in ", dir));
  }
  rocksdb::IOStatus s = (*engine)->VerifyBackup(id, /*checksum=*/true);
  if (s.ok()) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("backup ", id, " in ", dir, " is damaged: ", s.ToString()));
}

absl::StatusOr<BackupInfo> RestoreBackup(const std::string& dir, uint32_t id,
                                         const std::string& data_dir) {
  std::error_code ec;
  if (std::filesystem::exists(data_dir + "/CURRENT", ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", data_dir,
        " already holds a store: restore into a new, empty directory (and "
        "keep the old one until the restore is checked)"));
  }
  auto engine = storage_internal::OpenReadOnly(dir);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> infos;
  (*engine)->GetBackupInfo(&infos);
  if (infos.empty()) {
    return absl::NotFoundError(absl::StrCat("no backups in ", dir));
  }
  if (id == 0) id = infos.back().backup_id;
  rocksdb::BackupInfo info;
  if (!(*engine)->GetBackupInfo(id, &info).ok()) {
    return absl::NotFoundError(absl::StrCat("no backup ", id, " in ", dir));
  }
  std::filesystem::create_directories(data_dir, ec);
  std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  absl::Status st = storage_internal::FromIo(
      (*engine)->RestoreDBFromBackup(id, data_dir, data_dir),
      absl::StrCat("restore backup ", id, " into ", data_dir));
  if (!st.ok()) return st;
  return storage_internal::Info(info);
}

}  // namespace achilles::storage
