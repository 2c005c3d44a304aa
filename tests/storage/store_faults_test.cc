// The store under resource exhaustion, with a real RocksDB in a temp dir and
// the test-only fault injector standing in for a full disk or an exhausted
// descriptor table: the failure is a clean status (RESOURCE_EXHAUSTED for a
// full disk, UNAVAILABLE for descriptors), never a crash or INTERNAL;
// nothing acknowledged is lost and no batch is half-written; and writes
// resume without reopening the store by hand once the resource is back.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/timeline_store.h"
#include "tests/common/events.h"
#include "tests/common/temp_dir.h"

namespace achilles::storage {
namespace {

using ::achilles::testing::Day;
using ::achilles::testing::Note;
using ::achilles::testing::TempDir;

class StoreFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    v1::Patient p;
    p.set_patient_id("p");
    ASSERT_TRUE(store_->UpsertPatient("c", p).ok());
  }

  void Open() {
    store_.reset();
    StoreOptions o;
    o.path = dir_.Sub("db");
    o.block_cache_bytes = 8 << 20;
    o.memtable_budget_bytes = 8 << 20;
    o.fault_injector = [this](FileOp op, const std::string&) {
      if (op == FileOp::kSync) ++syncs_;
      if (disk_full_.load() && (op == FileOp::kWrite || op == FileOp::kSync)) {
        return ENOSPC;
      }
      if (op == FileOp::kWrite && writes_left_.load() >= 0 &&
          writes_left_.fetch_sub(1) <= 0) {
        return ENOSPC;
      }
      if (no_descriptors_.load() && op == FileOp::kOpen) return EMFILE;
      return 0;
    };
    auto store = OpenRocksDbStore(o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  absl::Status Append(const std::vector<std::string>& ids) {
    std::vector<v1::Event> events;
    for (const auto& id : ids) events.push_back(Note(id, Day(1)));
    return store_->AppendEvents("c", "p", events).status();
  }

  std::multiset<std::string> Stored() {
    std::multiset<std::string> ids;
    auto timeline = store_->LoadTimeline("c", "p", Day(10));
    EXPECT_TRUE(timeline.ok()) << timeline.status();
    if (timeline.ok()) {
      for (const auto& e : *timeline) ids.insert(e.event_id());
    }
    return ids;
  }

  TempDir dir_;
  std::atomic<bool> disk_full_{false};
  std::atomic<bool> no_descriptors_{false};
  // When >= 0: how many more file writes succeed before the disk is full.
  std::atomic<int> writes_left_{-1};
  std::atomic<int> syncs_{0};  // File syncs the store asked for.
  std::unique_ptr<TimelineStore> store_;
};

// The case that aborted the server: the write-ahead log write fails while
// every memtable is empty (just after a flush). RocksDB 7.8 would resume
// onto the failed log file and assert on the next write.
TEST_F(StoreFaultTest, DiskFullIsResourceExhaustedAndWritesResumeAfterwards) {
  ASSERT_TRUE(Append({"e1"}).ok());
  ASSERT_TRUE(store_->Flush().ok());

  disk_full_ = true;
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::Status st = Append({"e2", "e3"});
    EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
    EXPECT_NE(st.message().find("disk full"), std::string::npos) << st;
  }
  // Reads keep working while writes are refused.
  EXPECT_EQ(Stored(), (std::multiset<std::string>{"e1"}));

  disk_full_ = false;
  absl::Status st = Append({"e2", "e3"});
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_TRUE(Append({"e4"}).ok());
  const std::multiset<std::string> all = {"e1", "e2", "e3", "e4"};
  EXPECT_EQ(Stored(), all);

  // Durable: a fresh open finds every acknowledged event exactly once.
  Open();
  EXPECT_EQ(Stored(), all);
}

TEST_F(StoreFaultTest, DiskFullDuringAFlushStopsWritesUntilSpaceReturns) {
  ASSERT_TRUE(Append({"e1", "e2"}).ok());
  disk_full_ = true;
  absl::Status flush = store_->Flush();
  EXPECT_EQ(flush.code(), absl::StatusCode::kResourceExhausted) << flush;
  absl::Status st = Append({"e3"});
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;

  disk_full_ = false;
  st = Append({"e3"});
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_TRUE(store_->Flush().ok());
  Open();
  EXPECT_EQ(Stored(), (std::multiset<std::string>{"e1", "e2", "e3"}));
}

// kCoveredByNextSync writes leave the fsync to the caller's next synced
// write (the API layer's audit entry); kSynced writes take one themselves.
TEST_F(StoreFaultTest, DurabilityDecidesWhetherAWriteSyncs) {
  const auto syncs_of = [this](const std::function<absl::Status()>& write) {
    const int before = syncs_.load();
    EXPECT_TRUE(write().ok());
    return syncs_.load() - before;
  };
  EXPECT_GE(syncs_of([&] {
              return store_->PutPatientOwnedRecord("c", "p", "card/1", "x");
            }),
            1);
  EXPECT_EQ(syncs_of([&] {
              return store_->PutPatientOwnedRecord(
                  "c", "p", "card/2", "x", Durability::kCoveredByNextSync);
            }),
            0);
  EXPECT_EQ(syncs_of([&] {
              return store_
                  ->AppendEvents("c", "p", {Note("n1", Day(1))},
                                 Durability::kCoveredByNextSync)
                  .status();
            }),
            0);
  EXPECT_GE(syncs_of([&] { return Append({"n2"}); }), 1);
  auto card = store_->GetRecord("c", "card/2");
  ASSERT_TRUE(card.ok()) << card.status();
  EXPECT_EQ(*card, "x");
}

// A group of evaluations is one batch: whether the disk fills before it or
// during it, after a reopen either all of the group's evaluations, pointers
// and records are there or none is.
TEST_F(StoreFaultTest, AGroupOfEvaluationsIsStoredWhollyOrNotAtAll) {
  v1::Patient q;
  q.set_patient_id("q");
  ASSERT_TRUE(store_->UpsertPatient("c", q).ok());
  std::vector<EvaluationWrite> group(2);
  for (int i = 0; i < 2; ++i) {
    v1::Evaluation& ev = group[i].evaluation;
    ev.set_clinic_id("c");
    ev.set_patient_id(i == 0 ? "p" : "q");
    ev.set_evaluation_id(absl::StrCat("e", i));
    group[i].records = {{"run/r", ""}};
  }
  auto stored = [&] {
    int n = 0;
    for (const char* id : {"p", "q"}) {
      const bool ev = store_->GetLatestEvaluation("c", id).ok();
      const bool marker = store_->GetPatientRecord("c", id, "run/r").ok();
      EXPECT_EQ(ev, marker) << id;
      n += ev;
    }
    return n;
  };
  disk_full_ = true;
  auto results = store_->PutEvaluations(group);
  EXPECT_EQ(results.status().code(), absl::StatusCode::kResourceExhausted)
      << results.status();
  disk_full_ = false;
  Open();
  EXPECT_EQ(stored(), 0);

  // One file write gets through, then the disk is full: one write of the
  // whole group, never one patient's share of it.
  writes_left_ = 1;
  results = store_->PutEvaluations(group);
  writes_left_ = -1;
  Open();
  const int n = stored();
  EXPECT_TRUE(n == 0 || n == 2) << n << " of 2 patients stored";
  EXPECT_EQ(n == 2, results.ok()) << results.status();
}

// A new log file cannot be created (the listener had taken every
// descriptor): RocksDB treats that as fatal, so before the fix every write
// failed with INTERNAL for good, even after descriptors came back.
TEST_F(StoreFaultTest, NoDescriptorsIsUnavailableAndWritesResumeAfterwards) {
  ASSERT_TRUE(Append({"e1"}).ok());
  no_descriptors_ = true;
  absl::Status flush = store_->Flush();  // Rolls the write-ahead log.
  EXPECT_EQ(flush.code(), absl::StatusCode::kUnavailable) << flush;
  EXPECT_NE(flush.message().find("file descriptors"), std::string::npos)
      << flush;
  absl::Status st = Append({"e2"});
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;

  no_descriptors_ = false;
  st = Append({"e2"});
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(Stored(), (std::multiset<std::string>{"e1", "e2"}));
}

// Recovery reopens the database, which cannot happen under a caseload run's
// snapshot: writes stay refused (UNAVAILABLE, saying why) until it is let
// go, and reads through the snapshot keep working meanwhile.
TEST_F(StoreFaultTest, RecoveryWaitsForOpenSnapshots) {
  ASSERT_TRUE(Append({"e1"}).ok());
  auto snapshot = store_->GetSnapshot();
  disk_full_ = true;
  EXPECT_EQ(Append({"e2"}).code(), absl::StatusCode::kResourceExhausted);
  disk_full_ = false;
  absl::Status st = Append({"e2"});
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("snapshot"), std::string::npos) << st;
  auto seen = store_->LoadTimeline("c", "p", Day(10), snapshot.get());
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->size(), 1u);
  snapshot.reset();
  st = Append({"e2"});
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(Stored(), (std::multiset<std::string>{"e1", "e2"}));
}

// Many writers while the disk fills and empties again: every call returns
// (no crash, no hang), each acknowledged batch is stored, and every batch is
// stored whole or not at all. (A refused batch may still be stored: its
// fsync can fail after its bytes reached the log.)
TEST_F(StoreFaultTest, ConcurrentWritersThroughRepeatedDiskFullLoseNothing) {
  constexpr int kWriters = 4;
  constexpr int kAppends = 150;
  std::atomic<int> started{0};
  std::atomic<int> refused{0};
  std::vector<std::vector<std::string>> acked(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kAppends; ++i) {
        // The disk is full for a stretch of every 40 appends, by count.
        const int n = started.fetch_add(1);
        if (w == 0) disk_full_ = (n % 40) >= 25;
        const std::string id = absl::StrCat("w", w, "-", i);
        absl::Status st = Append({id + "a", id + "b"});
        if (st.ok()) {
          acked[w].push_back(id);
        } else {
          EXPECT_TRUE(absl::IsResourceExhausted(st) || absl::IsUnavailable(st))
              << st;
          ++refused;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  disk_full_ = false;
  ASSERT_TRUE(Append({"last"}).ok());
  Open();
  const auto stored = Stored();
  for (int w = 0; w < kWriters; ++w) {
    for (const auto& id : acked[w]) EXPECT_EQ(stored.count(id + "a"), 1u) << id;
    for (int i = 0; i < kAppends; ++i) {
      const std::string id = absl::StrCat("w", w, "-", i);
      EXPECT_EQ(stored.count(id + "a"), stored.count(id + "b")) << id;
    }
  }
  EXPECT_GT(refused.load(), 0) << "the disk never filled";
}

}  // namespace
}  // namespace achilles::storage
