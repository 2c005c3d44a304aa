// Backups with RocksDB's BackupEngine: creating one from an open database
// (for RocksDbTimelineStore::CreateBackup), and the offline operations in
// timeline_store.h (list, verify, restore). Internal to storage.
#ifndef ACHILLES_STORAGE_INTERNAL_BACKUPS_H_
#define ACHILLES_STORAGE_INTERNAL_BACKUPS_H_

#include <rocksdb/db.h>

#include <string>

#include "absl/status/statusor.h"
#include "storage/timeline_store.h"

namespace achilles::storage_internal {

// One backup of `db` into `dir` (flushed first, so the WAL is not needed),
// then the oldest beyond `keep` are deleted. One at a time per process.
absl::StatusOr<storage::BackupInfo> CreateBackupOf(rocksdb::DB* db,
                                                   const std::string& dir,
                                                   int keep);

}  // namespace achilles::storage_internal

#endif  // ACHILLES_STORAGE_INTERNAL_BACKUPS_H_
