// The server's file-descriptor budget (docs/OPERATIONS.md, "File
// descriptors").
//
// Every client connection costs a descriptor, and so does every file the
// store opens. gRPC 1.51's listener stops accepting for good the first time
// accept4() fails with EMFILE, and RocksDB treats a log file it cannot
// create as fatal: a flood of idle connections used to take the server down
// until a restart. So the descriptors are split up front: a fixed share for
// the process itself, a share for plugin workers, at most half of the rest
// for RocksDB's table files, and the remainder for connections. The
// listener then keeps to its share (GuardConnections): a connection that
// would eat into the others' shares is closed at once, and "too many open
// files" while accepting sheds the pending connection instead of stopping
// the listener. Nothing else in the process calls accept4().
#ifndef ACHILLES_SERVICES_SERVER_INTERNAL_FD_BUDGET_H_
#define ACHILLES_SERVICES_SERVER_INTERNAL_FD_BUDGET_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace achilles::server_internal {

// Standard streams, gRPC's pollers and wake-up descriptors, the listener,
// RocksDB's log, manifest, lock, directories and the files a flush or
// compaction writes, the secret and token files, TLS files, /proc reads.
inline constexpr int kFixedFds = 64;
inline constexpr int kMinStoreFiles = 32;
inline constexpr int kMinConnections = 16;

struct FdLimit {
  uint64_t soft_before = 0;
  uint64_t soft = 0;  // After raising.
  uint64_t hard = 0;
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit (systemd gives a
// service 1,024 soft and 524,288 hard by default).
FdLimit RaiseFdLimit();

struct FdBudget {
  int64_t limit = 0;
  int plugin_fds = 0;
  int store_files = 0;  // RocksDB max_open_files.
  int connections = 0;  // Client connections at once.
  int64_t reserved() const { return kFixedFds + plugin_fds + store_files; }
};

// Splits `limit` descriptors as described above: store files up to
// `store_files_wanted` but at most half of what kFixedFds and `plugin_fds`
// leave, connections up to `max_connections` from the rest.
// FAILED_PRECONDITION, saying how many are needed, when that leaves fewer
// than kMinConnections connections.
absl::StatusOr<FdBudget> PlanFdBudget(int64_t limit, int plugin_fds,
                                      int store_files_wanted,
                                      int max_connections);

// Makes the listener keep to `budget` from now on. Process-wide; the last
// call wins (tests run several servers in one process).
void GuardConnections(const FdBudget& budget);

// Connections the guard has closed at once since the process started.
uint64_t ShedConnections();

}  // namespace achilles::server_internal

#endif  // ACHILLES_SERVICES_SERVER_INTERNAL_FD_BUDGET_H_
