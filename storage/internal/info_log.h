// RocksDB's informational log (<data dir>/LOG) written with plain write(2).
//
// RocksDB 7.8's own logger writes through a WritableFileWriter and ignores
// its errors; once one write fails on a full disk the writer is marked
// failed and the next log line trips an assertion that aborts the process
// (Debian builds RocksDB with assertions on). This logger drops a line it
// cannot write and carries on. The previous LOG is kept as LOG.old; the
// file is 0600. Thread-safe.
#ifndef ACHILLES_STORAGE_INTERNAL_INFO_LOG_H_
#define ACHILLES_STORAGE_INTERNAL_INFO_LOG_H_

#include <rocksdb/env.h>

#include <memory>
#include <string>

namespace achilles::storage_internal {

// Null when the file cannot be opened (RocksDB then logs nowhere).
std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& dir);

}  // namespace achilles::storage_internal

#endif  // ACHILLES_STORAGE_INTERNAL_INFO_LOG_H_
