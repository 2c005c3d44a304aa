// Recovery from a failed write by reopening the database.
//
// After a write fails with an I/O error (disk full, no file descriptors for
// a new log file, a failed fsync), RocksDB refuses every later write until
// it is resumed. RocksDB 7.8's own DB::Resume() is not safe here: when no
// memtable holds data it keeps writing to the log file the failed write
// left behind, and the next write aborts the process on an assertion
// (fixed upstream later). Closing and reopening the database is safe at any
// point: recovery replays the log up to the last complete record, so an
// acknowledged write is never lost and a failed one is never half there.
//
// ReopeningStore forwards every call to the current store. Once a write has
// failed, the next call that writes first checks that resources are back
// (`probe`) and, if so and no snapshot is open, closes and reopens the
// database; until then writes fail with the probe's status (RESOURCE_
// EXHAUSTED for a full disk, UNAVAILABLE otherwise) and reads go on.
// Reopening never waits for other callers: it happens only when no call is
// in flight, so a long scan holding the store can never deadlock with it.
// Thread-safe.
#ifndef ACHILLES_STORAGE_INTERNAL_REOPENING_STORE_H_
#define ACHILLES_STORAGE_INTERNAL_REOPENING_STORE_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "storage/timeline_store.h"

namespace achilles::storage_internal {

// A store that says when it needs reopening.
class ReopenableStore : public storage::TimelineStore {
 public:
  // True once a write (or flush) failed with an I/O error; RocksDB then
  // refuses writes until the database is reopened.
  virtual bool WriteFailed() const = 0;
};

struct ReopenHooks {
  // Opens the database afresh; called after the old one is closed.
  std::function<absl::StatusOr<std::unique_ptr<ReopenableStore>>()> open;
  // OK when a reopen can succeed: a file can be written and synced in the
  // data dir and enough space is free. Otherwise the status to report.
  std::function<absl::Status()> probe;
};

std::unique_ptr<storage::TimelineStore> NewReopeningStore(
    std::unique_ptr<ReopenableStore> store, ReopenHooks hooks);

}  // namespace achilles::storage_internal

#endif  // ACHILLES_STORAGE_INTERNAL_REOPENING_STORE_H_
