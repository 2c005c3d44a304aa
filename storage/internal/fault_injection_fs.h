// A RocksDB FileSystem that fails chosen operations, for tests of how the
// store behaves when the disk fills up or file descriptors run out. Each
// operation first asks the StoreOptions::fault_injector; a non-zero errno
// fails it with the status the POSIX file system would return for that
// errno (ENOSPC and EDQUOT as NoSpace, anything else as IOError), without
// touching the file. Everything else goes to the wrapped file system.
// Thread-safe when the injector is.
#ifndef ACHILLES_STORAGE_INTERNAL_FAULT_INJECTION_FS_H_
#define ACHILLES_STORAGE_INTERNAL_FAULT_INJECTION_FS_H_

#include <rocksdb/file_system.h>

#include <memory>

#include "storage/timeline_store.h"

namespace achilles::storage_internal {

std::shared_ptr<rocksdb::FileSystem> NewFaultInjectionFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, storage::FaultInjector inject);

}  // namespace achilles::storage_internal

#endif  // ACHILLES_STORAGE_INTERNAL_FAULT_INJECTION_FS_H_
