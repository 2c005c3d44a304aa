// TimelineStore: the durable home of patients, their timeline events, clinic
// policies, stored evaluations, clinician feedback and the audit trail.
//
// Every record is scoped by clinic (tenant) first, so two clinics never share
// a key range. A patient's events are ordered by occurred_at then event_id and
// read with one prefix scan.
//
// Contract:
//  - AppendEvents is all-or-nothing (one RocksDB WriteBatch) and synced to the
//    WAL before it returns OK (or before the caller's next synced write, see
//    Durability), so an acknowledged append survives kill -9 and power
//    loss. Retrying a batch is safe: an event whose id is stored with
//    identical bytes is reported as a duplicate; the same id with different
//    content fails the whole batch with ALREADY_EXISTS naming the id.
//  - "Not found" is an ordinary NOT_FOUND status, never a crash.
//  - Reads may pass a Snapshot to see one consistent point in time across
//    many patients (caseload re-evaluation); every read a run makes, the
//    clinic policy included, takes one.
//  - PutEvaluations writes a group of patients' evaluations, latest
//    pointers and records in one synced WriteBatch: all of the group that
//    passed its checks is stored, or (on a write error) none of it. Each
//    patient keeps PutEvaluation's guarantees: nothing is stored for an
//    erased patient, and an evaluation id is never rewritten with other
//    bytes.
//  - Callers validate input first (services/validation, ValidateEventBatch
//    for AppendEvents); the store assumes ids are 1-64 chars of
//    [A-Za-z0-9._:-] and never contain NUL.
//  - storage/timeline_order.h sorts events in memory into the order
//    LoadTimeline returns them.
//  - Resource failures are ordinary statuses, never a crash: a full disk is
//    RESOURCE_EXHAUSTED ("disk full: ..."), no file descriptors or another
//    I/O failure is UNAVAILABLE. A write that failed left nothing behind
//    (each write is one batch). After such a failure RocksDB refuses every
//    write; the store then reopens itself on a later call, once a probe
//    file can be written and enough space is free, so writes resume without
//    a restart. Reads keep working meanwhile.
//
// Thread-safety: all methods are safe to call concurrently. Writes to one
// patient are serialized internally so the duplicate check and the write are
// atomic.
#ifndef ACHILLES_STORAGE_TIMELINE_STORE_H_
#define ACHILLES_STORAGE_TIMELINE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"
#include "achilles/v1/policy.pb.h"
#include "google/protobuf/arena.h"

namespace achilles::storage {

// File operations the store makes, for fault injection in tests.
enum class FileOp {
  kOpen,   // Opening or creating any file or directory.
  kWrite,  // Appending to a file (also asked before reporting free space).
  kSync,   // fsync / fdatasync.
};
// Returns 0 to let the operation run, or an errno (ENOSPC, EMFILE, EIO) to
// fail it the way the operating system would.
using FaultInjector = std::function<int(FileOp op, const std::string& path)>;

struct StoreOptions {
  std::string path;
  // fsync the WAL on every acknowledged write. Turning it off keeps data
  // across a process crash but not across power loss; only for benchmarks.
  bool sync_writes = true;
  bool create_if_missing = true;
  // Memory: one LRU block cache shared by every column family, and one
  // budget for all memtables (charged to that cache), so the store's
  // memory does not grow with the number of patients.
  size_t block_cache_bytes = size_t{64} << 20;
  size_t memtable_budget_bytes = size_t{64} << 20;
  // File descriptors: RocksDB keeps at most this many table files open (its
  // table cache; -1 would keep every file open, so a large store could use
  // up the process's descriptors). Part of the server's descriptor budget
  // (docs/OPERATIONS.md).
  int max_open_files = 512;
  // Test only: fails chosen file operations (see FaultInjector).
  FaultInjector fault_injector;
};

struct AppendResult {
  int appended = 0;
  std::vector<std::string> duplicate_event_ids;
};

struct DeleteResult {
  int64_t events_deleted = 0;
  int64_t evaluations_deleted = 0;
};

struct EventPage {
  std::vector<achilles::v1::Event> events;
  std::string next_page_token;
};

struct PatientPage {
  std::vector<achilles::v1::Patient> patients;
  std::string next_page_token;
};

// A read-only view of a timeline's events in order, over either a vector
// of events or a vector of pointers to them (a StoredTimeline's, parsed on
// an arena). It converts implicitly from both, so code that reads a
// timeline takes one type whoever owns the events. The events must outlive
// the view.
class EventSpan {
 public:
  using Event = achilles::v1::Event;

  class Iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Event;
    using difference_type = std::ptrdiff_t;
    using pointer = const Event*;
    using reference = const Event&;

    Iterator() = default;
    Iterator(const EventSpan& span, size_t i)
        : objects_(span.objects_), pointers_(span.pointers_), i_(i) {}
    reference operator*() const {
      return objects_ != nullptr ? objects_[i_] : *pointers_[i_];
    }
    pointer operator->() const { return &**this; }
    reference operator[](difference_type n) const { return *(*this + n); }
    Iterator& operator++() { return *this += 1; }
    Iterator operator++(int) { return Advanced(1, this); }
    Iterator& operator--() { return *this -= 1; }
    Iterator operator--(int) { return Advanced(-1, this); }
    Iterator& operator+=(difference_type n) {
      i_ = static_cast<size_t>(static_cast<difference_type>(i_) + n);
      return *this;
    }
    Iterator& operator-=(difference_type n) { return *this += -n; }
    friend Iterator operator+(Iterator it, difference_type n) {
      return it += n;
    }
    friend Iterator operator+(difference_type n, Iterator it) {
      return it += n;
    }
    friend Iterator operator-(Iterator it, difference_type n) {
      return it -= n;
    }
    friend difference_type operator-(const Iterator& a, const Iterator& b) {
      return static_cast<difference_type>(a.i_) -
             static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.i_ == b.i_;
    }
    friend bool operator!=(const Iterator& a, const Iterator& b) {
      return a.i_ != b.i_;
    }
    friend bool operator<(const Iterator& a, const Iterator& b) {
      return a.i_ < b.i_;
    }
    friend bool operator>(const Iterator& a, const Iterator& b) {
      return b < a;
    }
    friend bool operator<=(const Iterator& a, const Iterator& b) {
      return !(b < a);
    }
    friend bool operator>=(const Iterator& a, const Iterator& b) {
      return !(a < b);
    }

   private:
    // Post-increment and -decrement: the old position, `it` moved on.
    static Iterator Advanced(difference_type n, Iterator* it) {
      Iterator old = *it;
      *it += n;
      return old;
    }
    // The span's own pointers, so an iterator outlives the span object.
    const Event* objects_ = nullptr;
    const Event* const* pointers_ = nullptr;
    size_t i_ = 0;
  };
  using const_iterator = Iterator;
  using reverse_iterator = std::reverse_iterator<Iterator>;

  EventSpan() = default;
  EventSpan(const std::vector<Event>& events)  // NOLINT: implicit by design.
      : objects_(events.data()), size_(events.size()) {}
  EventSpan(const std::vector<Event>* events)  // NOLINT: implicit by design.
      : EventSpan(*events) {}
  EventSpan(const std::vector<const Event*>& events)  // NOLINT: as above.
      : pointers_(events.data()), size_(events.size()) {}
  // For a call's argument only (`F({a, b})`): the list lives until the end
  // of the call's full expression, no longer.
  EventSpan(std::initializer_list<Event> events)  // NOLINT: as above.
      : objects_(events.begin()), size_(events.size()) {}

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Event& operator[](size_t i) const {
    return objects_ != nullptr ? objects_[i] : *pointers_[i];
  }
  const Event& front() const { return (*this)[0]; }
  const Event& back() const { return (*this)[size_ - 1]; }
  Iterator begin() const { return Iterator(*this, 0); }
  Iterator end() const { return Iterator(*this, size_); }
  reverse_iterator rbegin() const { return reverse_iterator(end()); }
  reverse_iterator rend() const { return reverse_iterator(begin()); }

 private:
  const Event* objects_ = nullptr;          // Over a vector of events, or
  const Event* const* pointers_ = nullptr;  // over a vector of pointers.
  size_t size_ = 0;
};

// One patient's timeline as LoadStoredTimeline returns it: the events,
// parsed on `arena` (one allocation for many fields, freed at once), and,
// at the same index, the bytes the store holds for each (what the event
// serializes to, also on the arena), so a caller can pass them on without
// serializing again. Moving it keeps every pointer and view valid.
struct StoredTimeline {
  std::unique_ptr<google::protobuf::Arena> arena =
      std::make_unique<google::protobuf::Arena>();
  std::vector<const achilles::v1::Event*> events;
  std::vector<absl::string_view> bytes;
};

// One patient's share of a PutEvaluations group: the evaluation, stored and
// marked the patient's latest, and small per-patient records (key, value)
// written with it, as PutPatientRecord would.
struct EvaluationWrite {
  achilles::v1::Evaluation evaluation;
  std::vector<std::pair<std::string, std::string>> records;
};

// Figures for monitoring (services/telemetry turns them into metrics).
// Counters restart from zero when the store reopens after a failed write.
struct StoreFigures {
  uint64_t block_cache_hits = 0;
  uint64_t block_cache_misses = 0;
  uint64_t pending_compaction_bytes = 0;  // RocksDB's estimate, all families.
  uint64_t live_data_bytes = 0;           // RocksDB's estimate, all families.
  uint64_t sst_files_bytes = 0;
};

// One incremental backup (RocksDB's BackupEngine): table files are shared
// between backups, so each costs what changed since the one before.
struct BackupInfo {
  uint32_t id = 0;
  int64_t created_unix_seconds = 0;
  uint64_t size_bytes = 0;  // All its files, shared ones included.
  uint32_t files = 0;
};

// How a write reaches the disk before the call returns.
//  - kSynced: the write-ahead log holding it is fsynced (shared with
//    concurrent writers) before the call returns OK.
//  - kCoveredByNextSync: written to the write-ahead log without waiting for
//    an fsync. The caller promises that a synced write or Flush on this
//    store follows before it acknowledges anything that depends on the
//    write; the log is one sequence, so that later sync makes every earlier
//    record durable too. The API layer uses it because every successful
//    call's audit entry is a synced write to this store, made before the
//    call is answered: one fsync per call instead of two.
enum class Durability { kSynced, kCoveredByNextSync };

// A point-in-time view of the whole store. Release by destroying it.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
};

class TimelineStore {
 public:
  virtual ~TimelineStore() = default;

  // Creates or replaces the patient record, keeping created_at. Returns true
  // when the patient was created.
  virtual absl::StatusOr<bool> UpsertPatient(
      const std::string& clinic, achilles::v1::Patient& patient) = 0;
  virtual absl::StatusOr<achilles::v1::Patient> GetPatient(
      const std::string& clinic, const std::string& patient_id,
      const Snapshot* snapshot = nullptr) = 0;
  // Erases the patient and every event, evaluation, feedback record,
  // per-patient record and patient-owned clinic record.
  virtual absl::StatusOr<DeleteResult> DeletePatient(
      const std::string& clinic, const std::string& patient_id) = 0;
  virtual absl::StatusOr<PatientPage> ListPatients(
      const std::string& clinic, int page_size, const std::string& page_token,
      const Snapshot* snapshot = nullptr) = 0;
  // Calls `fn` for every patient id of the clinic in id order; stops early
  // and returns fn's status when it is not OK.
  virtual absl::Status ForEachPatientId(
      const std::string& clinic,
      const std::function<absl::Status(const std::string&)>& fn,
      const Snapshot* snapshot = nullptr) = 0;

  // Creates the patient (created_at/updated_at set as UpsertPatient does)
  // and stores `events` in the same synced batch: both or neither, so an
  // import never leaves an empty patient behind. ALREADY_EXISTS when the
  // patient exists (append to it instead); INVALID_ARGUMENT for one
  // event_id twice with different content. An identical repeat is stored
  // once and reported as a duplicate.
  virtual absl::StatusOr<AppendResult> CreatePatientWithEvents(
      const std::string& clinic, achilles::v1::Patient& patient,
      const std::vector<achilles::v1::Event>& events) = 0;
  // NOT_FOUND when the patient does not exist.
  virtual absl::StatusOr<AppendResult> AppendEvents(
      const std::string& clinic, const std::string& patient_id,
      const std::vector<achilles::v1::Event>& events,
      Durability durability = Durability::kSynced) = 0;
  // Events with from_us <= occurred_at < to_us, paged. INVALID_ARGUMENT for a
  // page token that this call did not hand out.
  virtual absl::StatusOr<EventPage> ListEvents(
      const std::string& clinic, const std::string& patient_id, int64_t from_us,
      int64_t to_us, int page_size, const std::string& page_token) = 0;
  // The whole timeline with occurred_at <= as_of_us, in order.
  virtual absl::StatusOr<std::vector<achilles::v1::Event>> LoadTimeline(
      const std::string& clinic, const std::string& patient_id,
      int64_t as_of_us, const Snapshot* snapshot = nullptr) = 0;
  // LoadTimeline, with each event's stored bytes beside it. An empty
  // timeline (or an unknown patient) gives empty vectors.
  virtual absl::StatusOr<StoredTimeline> LoadStoredTimeline(
      const std::string& clinic, const std::string& patient_id,
      int64_t as_of_us, const Snapshot* snapshot = nullptr) = 0;
  virtual absl::StatusOr<int64_t> CountEvents(
      const std::string& clinic, const std::string& patient_id) = 0;
  // occurred_at of the newest event, or nullopt for an empty timeline.
  virtual absl::StatusOr<std::optional<int64_t>> LastEventMicros(
      const std::string& clinic, const std::string& patient_id,
      const Snapshot* snapshot = nullptr) = 0;

  // Stores an evaluation and marks it the patient's latest. NOT_FOUND when
  // the patient does not exist (erased while the evaluation ran);
  // ALREADY_EXISTS when its id is stored with other bytes.
  virtual absl::Status PutEvaluation(
      const achilles::v1::Evaluation& evaluation,
      Durability durability = Durability::kSynced) = 0;
  // A group of PutEvaluation calls plus their records, in one synced
  // WriteBatch. Returns one status per write, in order: OK (stored),
  // NOT_FOUND or ALREADY_EXISTS as PutEvaluation (nothing of that write
  // stored, the rest of the group is). A failed write returns its error and
  // stores nothing of the group.
  virtual absl::StatusOr<std::vector<absl::Status>> PutEvaluations(
      absl::Span<const EvaluationWrite> writes) = 0;
  virtual absl::StatusOr<achilles::v1::Evaluation> GetEvaluation(
      const std::string& clinic, const std::string& patient_id,
      const std::string& evaluation_id) = 0;
  // NOT_FOUND when the patient has never been evaluated.
  virtual absl::StatusOr<achilles::v1::Evaluation> GetLatestEvaluation(
      const std::string& clinic, const std::string& patient_id,
      const Snapshot* snapshot = nullptr) = 0;

  // Stores `policy` as the next version for the clinic (assigned here and
  // written back into policy.version). FAILED_PRECONDITION when
  // expected_version >= 0 and is not the current version.
  virtual absl::Status PutPolicy(const std::string& clinic,
                                 achilles::v1::ClinicPolicy& policy,
                                 int64_t expected_version) = 0;
  // version 0 = current (as of `snapshot` when given). NOT_FOUND when the
  // clinic has no stored policy or no such version.
  virtual absl::StatusOr<achilles::v1::ClinicPolicy> GetPolicy(
      const std::string& clinic, int64_t version,
      const Snapshot* snapshot = nullptr) = 0;

  // Stores an opaque feedback record; returns its id.
  virtual absl::StatusOr<std::string> PutFeedback(
      const std::string& clinic, const std::string& patient_id,
      const std::string& evaluation_id, const std::string& record) = 0;

  // Small per-patient records (caseload deltas, run markers). Erased with
  // the patient. `durable` = false skips the fsync, for records that can be
  // recomputed if a crash loses them.
  virtual absl::Status PutPatientRecord(const std::string& clinic,
                                        const std::string& patient_id,
                                        const std::string& key,
                                        const std::string& value,
                                        bool durable = true) = 0;
  // NOT_FOUND when absent.
  virtual absl::StatusOr<std::string> GetPatientRecord(
      const std::string& clinic, const std::string& patient_id,
      const std::string& key, const Snapshot* snapshot = nullptr) = 0;

  // Generic small records keyed by clinic and name (caseload run state).
  virtual absl::Status PutRecord(const std::string& clinic,
                                 const std::string& key,
                                 const std::string& value) = 0;
  // NOT_FOUND when absent.
  virtual absl::StatusOr<std::string> GetRecord(
      const std::string& clinic, const std::string& key,
      const Snapshot* snapshot = nullptr) = 0;
  // A clinic-level record (read back with GetRecord) that belongs to a
  // patient: for lookups that start from an opaque key (a CDS card uuid)
  // but hold the patient's data. Written only while the patient exists
  // (NOT_FOUND otherwise) and erased with the patient by DeletePatient.
  virtual absl::Status PutPatientOwnedRecord(
      const std::string& clinic, const std::string& patient_id,
      const std::string& key, const std::string& value,
      Durability durability = Durability::kSynced) = 0;

  // Server-wide records (credentials, server state), written synced. Keys
  // are opaque; ListServerRecords returns those starting with `prefix`, in
  // key order.
  virtual absl::Status PutServerRecord(const std::string& key,
                                       const std::string& value) = 0;
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
  ListServerRecords(const std::string& prefix) = 0;

  // The audit trail: opaque entries keyed by sequence number. AppendAudit
  // writes a group of entries in one synced batch; the store never rewrites
  // or erases them (they carry pseudonyms, never patient ids).
  virtual absl::Status AppendAudit(
      const std::vector<std::pair<uint64_t, std::string>>& entries) = 0;
  // Entries with seq >= from_seq, in order, at most `limit`.
  virtual absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>>
  ReadAudit(uint64_t from_seq, int limit) = 0;

  virtual std::unique_ptr<Snapshot> GetSnapshot() = 0;
  // Flushes memtables and syncs the WAL; called on graceful shutdown.
  virtual absl::Status Flush() = 0;
  // Writes a consistent copy of the store to `dir` (hard links where
  // possible; `dir` made 0700). `dir` must not exist.
  virtual absl::Status Checkpoint(const std::string& dir) = 0;
  // Zeros for a store that keeps none. Cheap: safe on every scrape.
  virtual StoreFigures Figures() { return {}; }
  // A new incremental backup into the backup engine directory `dir`
  // (created 0700 if missing), then only the newest `keep` (at least 1)
  // are kept. Online: the store keeps serving. UNIMPLEMENTED for a store
  // without backups; other errors name `dir`.
  virtual absl::StatusOr<BackupInfo> CreateBackup(const std::string& dir,
                                                  int keep) {
    return absl::UnimplementedError("this store has no backups");
  }
};

// The backups in the backup engine directory `dir`, oldest first. NOT_FOUND
// when `dir` holds no backup engine.
absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& dir);
// Re-reads every file of backup `id` and checks its size and checksum.
// NOT_FOUND for an unknown id; DATA_LOSS naming the backup when a file is
// missing or differs.
absl::Status VerifyBackup(const std::string& dir, uint32_t id);
// Restores backup `id` (0 = the newest) into `data_dir`, which must not
// hold a store (FAILED_PRECONDITION otherwise). The restored files are the
// store only: what lives beside it (the server secret) is the caller's.
absl::StatusOr<BackupInfo> RestoreBackup(const std::string& dir, uint32_t id,
                                         const std::string& data_dir);

// Opens (creating if asked, mode 0700) the RocksDB store at options.path.
// FAILED_PRECONDITION with the path when another process holds the lock;
// DATA_LOSS when the files are corrupt; RESOURCE_EXHAUSTED when the disk is
// full; UNAVAILABLE for other I/O failures; INTERNAL otherwise.
absl::StatusOr<std::unique_ptr<TimelineStore>> OpenRocksDbStore(
    const StoreOptions& options);

}  // namespace achilles::storage

#endif  // ACHILLES_STORAGE_TIMELINE_STORE_H_
