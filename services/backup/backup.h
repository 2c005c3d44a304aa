// Backups that respect erasure.
//
// Layout of --backup_dir:
//   incremental/   RocksDB BackupEngine: the numbered incremental backups
//   erasures.log   every erasure since backups began, one line each
//                  (time, clinic, the patient's keyed pseudonym), appended
//                  and fsynced before the erasure itself runs
//   server.secret  a copy of the data dir's secret (it keys the pseudonyms
//                  and the audit chain; a restore needs it)
//   <name>/        checkpoints made by StoreService.Checkpoint
// The erasure log lives outside every backup, so a restore of a backup
// taken before an erasure re-applies it: an erased patient never comes
// back. It holds pseudonyms only, never an id or name.
//
// Thread-safety: ErasureLog is thread-safe; the free functions are for an
// offline data dir (the server stopped).
#ifndef ACHILLES_SERVICES_BACKUP_BACKUP_H_
#define ACHILLES_SERVICES_BACKUP_BACKUP_H_

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/timeline_store.h"

namespace achilles::backup {

inline constexpr char kEngineDir[] = "incremental";
inline constexpr char kErasureLog[] = "erasures.log";
inline constexpr char kSecretCopy[] = "server.secret";

// Names a Checkpoint may not take: they are the layout's own.
bool IsReservedName(const std::string& name);

class ErasureLog {
 public:
  // Opens (creating, 0600) <backup_dir>/erasures.log for appending.
  // INTERNAL naming the path when it cannot.
  static absl::StatusOr<std::unique_ptr<ErasureLog>> Open(
      const std::string& backup_dir);
  ~ErasureLog();

  // Appends one line and fsyncs it. UNAVAILABLE naming the file on failure
  // (the erasure must then not run: a restore could not re-apply it).
  absl::Status Record(const std::string& clinic, const std::string& pseudonym,
                      int64_t at_micros);

  // Every (clinic, pseudonym) recorded in <backup_dir>/erasures.log; empty
  // when there is no log. DATA_LOSS naming the line when one is malformed.
  static absl::StatusOr<std::set<std::pair<std::string, std::string>>> Read(
      const std::string& backup_dir);

 private:
  explicit ErasureLog(int fd, std::string path)
      : fd_(fd), path_(std::move(path)) {}
  absl::Mutex mu_;
  const int fd_;
  const std::string path_;
};

// Keeps <backup_dir>/server.secret equal to the data dir's (written once,
// 0600). INTERNAL naming the path on failure.
absl::Status KeepSecretCopy(const std::string& data_dir,
                            const std::string& backup_dir);

struct RestoreReport {
  storage::BackupInfo backup;
  int erasures_reapplied = 0;  // Patients the log erased again.
};

// Restores backup `id` (0 = newest) from <backup_dir>/incremental into
// `data_dir` (which must hold no store), puts the server secret beside it,
// then erases again every patient the erasure log names. FAILED_PRECONDITION
// when the data dir holds a store or the backup dir has no secret copy
// while its log names erasures; the errors of ListBackups/RestoreBackup
// otherwise. A failed re-application leaves the restored dir behind with
// the error: do not start a server on it.
absl::StatusOr<RestoreReport> Restore(const std::string& backup_dir,
                                      uint32_t id, const std::string& data_dir);

}  // namespace achilles::backup

#endif  // ACHILLES_SERVICES_BACKUP_BACKUP_H_
