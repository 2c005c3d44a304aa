// Raw synced RocksDB writes: the ingest anchor (see raw_rocksdb.h).
#include "bench/raw_rocksdb.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/stats.h"

namespace achilles::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Random bytes: the store's records are protobufs, which compress poorly.
std::string Value(int bytes, int thread) {
  std::mt19937 rng(static_cast<unsigned>(thread) + 1);
  std::string v(static_cast<size_t>(bytes), '\0');
  for (char& c : v) c = static_cast<char>(rng());
  return v;
}

// Keys in write order per thread, as the store's timeline keys are.
std::string Key(int thread, long i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "t%03d/%012ld", thread, i);
  return buf;
}

struct Shared {
  rocksdb::DB* db;
  Clock::time_point end;
  int value_bytes;
  std::vector<std::vector<double>> latency_us;
  std::mutex mu;
  std::string error;
};

void WriteLoop(Shared* s, int t) {
  const std::string value = Value(s->value_bytes, t);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  for (long i = 0; Clock::now() < s->end; ++i) {
    rocksdb::WriteBatch batch;
    batch.Put(Key(t, i), value);
    const auto t0 = Clock::now();
    const rocksdb::Status st = s->db->Write(sync, &batch);
    s->latency_us[t].push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!st.ok()) {
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->error.empty()) s->error = st.ToString();
      return;
    }
  }
}

void Collect(Shared* s, double seconds, RawWriteResult* r) {
  std::vector<double> all;
  for (const auto& v : s->latency_us) all.insert(all.end(), v.begin(), v.end());
  const Percentiles p = Summarize(std::move(all));
  r->writes = static_cast<long>(p.n);
  r->seconds = seconds;
  r->writes_per_s = seconds > 0 ? static_cast<double>(p.n) / seconds : 0;
  r->p50_us = p.p50;
  r->p99_us = p.p99;
  r->error = s->error;
}

}  // namespace

RawWriteResult RunRawSyncedWrites(const RawWriteOptions& o) {
  RawWriteResult r;
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status open = rocksdb::DB::Open(options, o.dir, &raw);
  if (!open.ok()) {
    r.error = absl::StrCat("open ", o.dir, ": ", open.ToString());
    return r;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  Shared s;
  s.db = db.get();
  s.value_bytes = o.value_bytes;
  s.latency_us.resize(static_cast<size_t>(o.threads));
  const auto start = Clock::now();
  s.end = start + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) threads.emplace_back(WriteLoop, &s, t);
  for (auto& t : threads) t.join();
  Collect(&s, std::chrono::duration<double>(Clock::now() - start).count(), &r);
  db.reset();
  std::error_code ec;
  std::filesystem::remove_all(o.dir, ec);
  return r;
}

}  // namespace achilles::bench
