// The ingest anchor: the fastest a synced write can go on this machine and
// filesystem. Threads write one-Put WriteBatches with WriteOptions::sync
// (the WAL fsynced before each write returns, as the server's store does)
// to a fresh RocksDB, back to back for a fixed time. AppendEvents is
// reported against the 8-thread figure: what the server adds on top of
// RocksDB's own group commit.
#ifndef ACHILLES_BENCH_RAW_ROCKSDB_H_
#define ACHILLES_BENCH_RAW_ROCKSDB_H_

#include <string>

namespace achilles::bench {

struct RawWriteOptions {
  std::string dir;  // Created, then removed; same filesystem as the server's.
  int threads = 1;
  double seconds = 3;
  int value_bytes = 256;  // About one stored AppendEvents record.
};

struct RawWriteResult {
  long writes = 0;
  double seconds = 0;
  double writes_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  std::string error;  // Empty when every write succeeded.
};

RawWriteResult RunRawSyncedWrites(const RawWriteOptions& options);

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_RAW_ROCKSDB_H_
