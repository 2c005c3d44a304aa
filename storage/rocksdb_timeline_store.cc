// RocksDB implementation of TimelineStore. The only file in the project that
// includes <rocksdb/...>.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/metrics/metrics.h"
#include "common/time_util.h"
#include "storage/internal/backups.h"
#include "storage/internal/fault_injection_fs.h"
#include "storage/internal/group_sync.h"
#include "storage/internal/info_log.h"
#include "storage/internal/key_encoding.h"
#include "storage/internal/reopening_store.h"
#include "storage/timeline_store.h"

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

namespace achilles::storage {
namespace {

namespace ki = ::achilles::storage_internal;
using ::achilles::v1::ClinicPolicy;
using ::achilles::v1::Evaluation;
using ::achilles::v1::Event;
using ::achilles::v1::Patient;

// Column family order; index 0 is RocksDB's mandatory default family.
enum Cf : int {
  kDefault = 0,
  kPatients,
  kEvents,
  kEventIds,
  kEvaluations,
  kLatestEval,
  kPolicies,
  kFeedback,
  kAudit,
  kRecords,
  kCfCount
};
constexpr std::array<const char*, kCfCount> kCfNames = {
    "default",     "patients", "events",   "event_ids", "evaluations",
    "latest_eval", "policies", "feedback", "audit",     "records"};

// Per-patient marker of a patient-owned clinic record; callers' record keys
// are printable, so none starts with \x01.
constexpr char kOwnedMarker[] = "\x01owned/";

// RocksDB keeps the errno of a failed system call only as its text in the
// status message (env/io_posix.h IOError).
bool MentionsErrno(const rocksdb::Status& s, int err) {
  return absl::StrContains(s.ToString(), std::strerror(err));
}

bool IsDiskFull(const rocksdb::Status& s) {
  return s.IsNoSpace() || (s.IsIOError() && (MentionsErrno(s, ENOSPC) ||
                                             MentionsErrno(s, EDQUOT)));
}

// Resource failures get the code a client can act on: RESOURCE_EXHAUSTED
// for a full disk (free space, then retry), UNAVAILABLE for missing file
// descriptors and other I/O failures (retry; the store reopens itself, see
// internal/reopening_store.h). Never INTERNAL: these are not bugs.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(msg);
  }
  if (IsDiskFull(s)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "disk full: ", msg, " (writes resume once space is freed)"));
  }
  if (s.IsIOError()) {
    if (MentionsErrno(s, EMFILE) || MentionsErrno(s, ENFILE)) {
      return absl::UnavailableError(
          absl::StrCat("out of file descriptors: ", msg));
    }
    return absl::UnavailableError(absl::StrCat("storage I/O error: ", msg));
  }
  return absl::InternalError(msg);
}

// Keeps RocksDB from resuming by itself after a background error: 7.8
// resumes onto the log file a failed write left behind when no memtable
// holds data, and the next write then aborts the process on an assertion.
// The store reopens the database instead (internal/reopening_store.h).
// How long making the write-ahead log durable takes: a write with
// sync = true (the append path) or one SyncWAL shared by a group of writers
// (group_sync.h). The figure an operator watches for a slow disk.
metrics::Histogram& WalSyncSeconds(absl::string_view kind) {
  static auto& family = metrics::Registry::Default().HistogramFamily(
      "achilles_store_wal_sync_seconds",
      "Time to make the write-ahead log durable: a synced write, or one "
      "group sync shared by concurrent writers.",
      {"kind"});
  return family.WithLabels({kind});
}

class ManualRecovery final : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason,
                         rocksdb::Status* error) override {
    Log(LogLevel::kError, "store: ", error->ToString(),
        "; writes are refused until the store reopens");
  }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

// Data and backups hold patient records: only the server's user may read
// them, whatever the umask of whoever started it. Directories 0700, files
// 0600. A failure (a directory someone else owns) is logged, not fatal: the
// operator may have set up group access on purpose.
void MakePrivate(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) {
    Log(LogLevel::kWarning, "cannot make ", dir,
        " private (0700): ", ec.message());
  }
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::error_code file_ec;
    if (e.is_regular_file(file_ec)) {
      fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write,
                      fs::perm_options::replace, file_ec);
    }
  }
}

class RocksSnapshot : public Snapshot {
 public:
  RocksSnapshot(rocksdb::DB* db, const rocksdb::Snapshot* snap)
      : db_(db), snap_(snap) {}
  ~RocksSnapshot() override { db_->ReleaseSnapshot(snap_); }
  const rocksdb::Snapshot* get() const { return snap_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};

// ThreadSanitizer build only: while it lives, this thread's memory accesses
// are not checked. In a group commit RocksDB has the thread that leads the
// group copy the other writers' batches into one log record; the batches
// are handed over through RocksDB's own atomics, which TSan cannot see in
// the uninstrumented library, but it does see the copies (std::string
// appends inside libstdc++). Those reports name no RocksDB frame a
// suppression could match (TSan records only frames of instrumented code),
// so each write call runs in this scope instead: everything it touches is
// RocksDB's own memory or a batch or key handed to it. Our code before and
// after the call is still checked, and locks taken inside still count.
class UncheckedByTsan {
 public:
#if defined(__SANITIZE_THREAD__)
  UncheckedByTsan() { __tsan_ignore_thread_begin(); }
  ~UncheckedByTsan() { __tsan_ignore_thread_end(); }
#else
  UncheckedByTsan() {}
  ~UncheckedByTsan() {}
#endif
  UncheckedByTsan(const UncheckedByTsan&) = delete;
  UncheckedByTsan& operator=(const UncheckedByTsan&) = delete;
};

std::string Serialize(const google::protobuf::Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

absl::string_view View(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

// Parses bytes read from the store. DATA_LOSS naming `noun` when they do
// not parse: the store wrote them, so this is corruption, not bad input.
template <typename T>
absl::StatusOr<T> ParseStored(absl::string_view bytes, absl::string_view noun) {
  T parsed;
  if (!parsed.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat("stored ", noun, " does not parse"));
  }
  return parsed;
}

// The one copy of a value out of RocksDB's block, on the timeline's arena.
absl::string_view CopyToArena(const rocksdb::Slice& value,
                              StoredTimeline* timeline) {
  char* copy = google::protobuf::Arena::CreateArray<char>(
      timeline->arena.get(), std::max<size_t>(value.size(), 1));
  std::memcpy(copy, value.data(), value.size());
  return absl::string_view(copy, value.size());
}

// ParseStored, with the message and every field it allocates on `arena`.
template <typename T>
absl::StatusOr<const T*> ParseOnArena(absl::string_view bytes,
                                      google::protobuf::Arena* arena,
                                      absl::string_view noun) {
  T* parsed = google::protobuf::Arena::CreateMessage<T>(arena);
  if (!parsed->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat("stored ", noun, " does not parse"));
  }
  return parsed;
}

// A scan visitor's answer for one entry: go on, or stop there (the scan
// then returns OK). A visitor fails a scan by returning an error instead.
enum class Scan { kNext, kStop };

// Holds the lock stripes of several patients, each once and in address
// (= index) order. Every other caller holds one stripe at a time, so two
// groups, or a group and a single write, cannot deadlock.
class StripeGroupLock {
 public:
  explicit StripeGroupLock(std::vector<absl::Mutex*> stripes)
      : held_(std::move(stripes)) {
    std::sort(held_.begin(), held_.end());
    held_.erase(std::unique(held_.begin(), held_.end()), held_.end());
    for (absl::Mutex* mu : held_) mu->Lock();
  }
  ~StripeGroupLock() {
    for (auto it = held_.rbegin(); it != held_.rend(); ++it) (*it)->Unlock();
  }
  StripeGroupLock(const StripeGroupLock&) = delete;
  StripeGroupLock& operator=(const StripeGroupLock&) = delete;

 private:
  std::vector<absl::Mutex*> held_;
};

// Evaluation key -> bytes already in the batch being built, so one group
// cannot give one id two contents either.
using StagedEvaluations = absl::flat_hash_map<std::string, std::string>;
using Records = std::vector<std::pair<std::string, std::string>>;

class RocksDbTimelineStore final : public storage_internal::ReopenableStore {
 public:
  RocksDbTimelineStore(std::unique_ptr<rocksdb::Env> env,
                       std::unique_ptr<rocksdb::DB> db,
                       std::vector<rocksdb::ColumnFamilyHandle*> cfs, bool sync)
      : env_(std::move(env)), db_(std::move(db)), cfs_(std::move(cfs)) {
    sync_.sync = sync;
    // Records that can be recomputed (caseload markers) are not worth an
    // fsync each; they still reach disk with the next synced write.
    nosync_.sync = false;
  }

  ~RocksDbTimelineStore() override {
    for (auto* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
    db_->Close().PermitUncheckedError();
  }

  absl::StatusOr<bool> UpsertPatient(const std::string& clinic,
                                     Patient& patient) override {
    const std::string key = ki::PatientKey(clinic, patient.patient_id());
    absl::MutexLock lock(&StripeFor(key));
    auto old = ReadParsed<Patient>(kPatients, key, nullptr, "patient record",
                                   [] { return std::string(); });
    const bool created = absl::IsNotFound(old.status());
    if (!created && !old.ok()) return old.status();
    const auto now = FromMicros(NowMicros());
    *patient.mutable_created_at() = created ? now : old->created_at();
    *patient.mutable_updated_at() = now;
    rocksdb::WriteBatch batch;
    batch.Put(cfs_[kPatients], key, Serialize(patient));
    if (auto st = Write(sync_, &batch, "write patient"); !st.ok()) {
      return st;
    }
    return created;
  }

  absl::StatusOr<AppendResult> CreatePatientWithEvents(
      const std::string& clinic, Patient& patient,
      const std::vector<Event>& events) override {
    const std::string& pid = patient.patient_id();
    const std::string pkey = ki::PatientKey(clinic, pid);
    absl::MutexLock lock(&StripeFor(pkey));
    auto old = ReadParsed<Patient>(kPatients, pkey, nullptr, "patient record",
                                   [] { return std::string(); });
    if (old.ok()) {
      return absl::AlreadyExistsError(
          absl::StrCat("patient '", pid, "' already exists"));
    }
    if (!absl::IsNotFound(old.status())) return old.status();
    const auto now = FromMicros(NowMicros());
    *patient.mutable_created_at() = now;
    *patient.mutable_updated_at() = now;
    rocksdb::WriteBatch batch;
    batch.Put(cfs_[kPatients], pkey, Serialize(patient));
    // A new patient has no stored events (an erasure removed every key), so
    // only repeats inside the batch need checking.
    AppendResult result;
    absl::flat_hash_map<std::string, std::string> in_batch;  // id -> bytes
    for (const Event& e : events) {
      std::string bytes = Serialize(e);
      if (auto it = in_batch.find(e.event_id()); it != in_batch.end()) {
        if (it->second != bytes) {
          return absl::InvalidArgumentError(
              absl::StrCat("event_id '", e.event_id(),
                           "' twice in one batch with different content"));
        }
        result.duplicate_event_ids.push_back(e.event_id());
        continue;
      }
      const std::string key =
          ki::EventKey(clinic, pid, ToMicros(e.occurred_at()), e.event_id());
      batch.Put(cfs_[kEvents], key, bytes);
      batch.Put(cfs_[kEventIds], ki::EventIdKey(clinic, pid, e.event_id()),
                key);
      in_batch.emplace(e.event_id(), std::move(bytes));
      ++result.appended;
    }
    if (auto st = Write(sync_, &batch, "create patient with events");
        !st.ok()) {
      return st;
    }
    return result;
  }

  absl::StatusOr<Patient> GetPatient(const std::string& clinic,
                                     const std::string& patient_id,
                                     const Snapshot* snapshot) override {
    return ReadParsed<Patient>(kPatients, ki::PatientKey(clinic, patient_id),
                               snapshot, "patient record",
                               [&] { return PatientNotFound(patient_id); });
  }

  absl::StatusOr<DeleteResult> DeletePatient(
      const std::string& clinic, const std::string& patient_id) override {
    const std::string key = ki::PatientKey(clinic, patient_id);
    absl::MutexLock lock(&StripeFor(key));
    auto patient = GetPatient(clinic, patient_id, nullptr);
    if (!patient.ok()) return patient.status();
    const std::string prefix = ki::PatientPrefix(clinic, patient_id);
    const std::string end = ki::PrefixEnd(prefix);
    auto events = CountPrefix(kEvents, prefix);
    if (!events.ok()) return events.status();
    auto evaluations = CountPrefix(kEvaluations, prefix);
    if (!evaluations.ok()) return evaluations.status();
    DeleteResult result;
    result.events_deleted = *events;
    result.evaluations_deleted = *evaluations;
    rocksdb::WriteBatch batch;
    if (auto st = DeleteOwnedRecords(clinic, prefix, &batch); !st.ok()) {
      return st;
    }
    batch.Delete(cfs_[kPatients], key);
    batch.Delete(cfs_[kLatestEval], key);
    for (Cf cf : {kEvents, kEventIds, kEvaluations, kFeedback, kRecords}) {
      batch.DeleteRange(cfs_[cf], prefix, end);
    }
    if (auto st = Write(sync_, &batch, "erase patient"); !st.ok()) {
      return st;
    }
    return result;
  }

  absl::StatusOr<PatientPage> ListPatients(const std::string& clinic,
                                           int page_size,
                                           const std::string& page_token,
                                           const Snapshot* snapshot) override {
    const std::string prefix = ki::ClinicPrefix(clinic);
    std::string start = prefix;
    if (!page_token.empty()) {
      std::string decoded;
      if (!absl::WebSafeBase64Unescape(page_token, &decoded) ||
          !absl::StartsWith(decoded, prefix)) {
        return absl::InvalidArgumentError(
            "page_token: not a token from a previous ListPatients call");
      }
      start = decoded;
    }
    PatientPage page;
    auto st = ScanRange(
        kPatients, start, ki::PrefixEnd(prefix), snapshot, "list patients",
        [&](const rocksdb::Slice& key,
            const rocksdb::Slice& value) -> absl::StatusOr<Scan> {
          if (static_cast<int>(page.patients.size()) == page_size) {
            absl::WebSafeBase64Escape(View(key), &page.next_page_token);
            return Scan::kStop;
          }
          auto p = ParseStored<Patient>(View(value), "patient record");
          if (!p.ok()) return p.status();
          page.patients.push_back(*std::move(p));
          return Scan::kNext;
        });
    if (!st.ok()) return st;
    return page;
  }

  absl::Status ForEachPatientId(
      const std::string& clinic,
      const std::function<absl::Status(const std::string&)>& fn,
      const Snapshot* snapshot) override {
    const std::string prefix = ki::ClinicPrefix(clinic);
    return ScanPrefix(kPatients, prefix, snapshot, "scan patients",
                      [&](const rocksdb::Slice& key,
                          const rocksdb::Slice&) -> absl::StatusOr<Scan> {
                        absl::Status st =
                            fn(std::string(View(key).substr(prefix.size())));
                        if (!st.ok()) return st;
                        return Scan::kNext;
                      });
  }

  absl::StatusOr<AppendResult> AppendEvents(const std::string& clinic,
                                            const std::string& patient_id,
                                            const std::vector<Event>& events,
                                            Durability durability) override {
    const std::string pkey = ki::PatientKey(clinic, patient_id);
    absl::MutexLock lock(&StripeFor(pkey));
    if (auto st = RequirePatient(pkey, patient_id); !st.ok()) return st;

    AppendResult result;
    rocksdb::WriteBatch batch;
    absl::flat_hash_map<std::string, std::string> in_batch;  // id -> bytes
    for (const Event& e : events) {
      const std::string bytes = Serialize(e);
      const std::string id_key =
          ki::EventIdKey(clinic, patient_id, e.event_id());
      // The same id twice inside one batch: an identical repeat is stored
      // once. Different content is refused for clients by
      // validation::ValidateEventBatch before the store is called; refuse it
      // here too rather than index one id to two events.
      if (auto it = in_batch.find(e.event_id()); it != in_batch.end()) {
        if (it->second != bytes) {
          return absl::InvalidArgumentError(absl::StrCat(
              "event_id '", e.event_id(),
              "' twice in one batch with different content (unvalidated "
              "batch)"));
        }
        continue;
      }
      std::string event_key;
      rocksdb::Status g =
          db_->Get(rocksdb::ReadOptions(), cfs_[kEventIds], id_key, &event_key);
      if (g.ok()) {
        std::string stored;
        rocksdb::Status g2 =
            db_->Get(rocksdb::ReadOptions(), cfs_[kEvents], event_key, &stored);
        if (!g2.ok()) return FromRocks(g2, "read stored event");
        if (stored != bytes) {
          return absl::AlreadyExistsError(absl::StrCat(
              "event_id '", e.event_id(),
              "' is already stored with different content; use a new "
              "event_id for a new event"));
        }
        result.duplicate_event_ids.push_back(e.event_id());
        in_batch.emplace(e.event_id(), bytes);
        continue;
      }
      if (!g.IsNotFound()) return FromRocks(g, "read event index");
      const std::string key = ki::EventKey(
          clinic, patient_id, ToMicros(e.occurred_at()), e.event_id());
      batch.Put(cfs_[kEvents], key, bytes);
      batch.Put(cfs_[kEventIds], id_key, key);
      in_batch.emplace(e.event_id(), bytes);
      ++result.appended;
    }
    if (result.appended > 0) {
      const rocksdb::WriteOptions& options =
          durability == Durability::kSynced ? sync_ : nosync_;
      if (auto st = Write(options, &batch, "append events"); !st.ok()) {
        return st;
      }
    }
    return result;
  }

  absl::StatusOr<EventPage> ListEvents(const std::string& clinic,
                                       const std::string& patient_id,
                                       int64_t from_us, int64_t to_us,
                                       int page_size,
                                       const std::string& page_token) override {
    if (auto p = GetPatient(clinic, patient_id, nullptr); !p.ok()) {
      return p.status();
    }
    const std::string prefix = ki::PatientPrefix(clinic, patient_id);
    std::string start = prefix;
    ki::AppendTime(&start, from_us);
    if (!page_token.empty()) {
      std::string decoded;
      if (!absl::WebSafeBase64Unescape(page_token, &decoded) ||
          decoded.size() < 8) {
        return absl::InvalidArgumentError(
            "page_token: not a token from a previous ListEvents call");
      }
      start = prefix + decoded;
    }
    std::string end = prefix;
    ki::AppendTime(&end, to_us);
    EventPage page;
    auto st =
        ScanRange(kEvents, start, end, nullptr, "list events",
                  [&](const rocksdb::Slice& key,
                      const rocksdb::Slice& value) -> absl::StatusOr<Scan> {
                    if (static_cast<int>(page.events.size()) == page_size) {
                      absl::WebSafeBase64Escape(View(key).substr(prefix.size()),
                                                &page.next_page_token);
                      return Scan::kStop;
                    }
                    auto e = ParseStored<Event>(View(value), "event");
                    if (!e.ok()) return e.status();
                    page.events.push_back(*std::move(e));
                    return Scan::kNext;
                  });
    if (!st.ok()) return st;
    return page;
  }

  absl::StatusOr<std::vector<Event>> LoadTimeline(
      const std::string& clinic, const std::string& patient_id,
      int64_t as_of_us, const Snapshot* snapshot) override {
    std::vector<Event> events;
    auto st =
        ScanTimeline(clinic, patient_id, as_of_us, snapshot,
                     [&](const rocksdb::Slice&,
                         const rocksdb::Slice& value) -> absl::StatusOr<Scan> {
                       auto e = ParseStored<Event>(View(value), "event");
                       if (!e.ok()) return e.status();
                       events.push_back(*std::move(e));
                       return Scan::kNext;
                     });
    if (!st.ok()) return st;
    return events;
  }

  absl::StatusOr<StoredTimeline> LoadStoredTimeline(
      const std::string& clinic, const std::string& patient_id,
      int64_t as_of_us, const Snapshot* snapshot) override {
    StoredTimeline timeline;
    auto st = ScanTimeline(
        clinic, patient_id, as_of_us, snapshot,
        [&](const rocksdb::Slice&,
            const rocksdb::Slice& value) -> absl::StatusOr<Scan> {
          auto stored = CopyToArena(value, &timeline);
          auto e = ParseOnArena<Event>(stored, timeline.arena.get(), "event");
          if (!e.ok()) return e.status();
          timeline.events.push_back(*e);
          timeline.bytes.push_back(stored);
          return Scan::kNext;
        });
    if (!st.ok()) return st;
    return timeline;
  }

  absl::StatusOr<int64_t> CountEvents(const std::string& clinic,
                                      const std::string& patient_id) override {
    return CountPrefix(kEvents, ki::PatientPrefix(clinic, patient_id));
  }

  absl::StatusOr<std::optional<int64_t>> LastEventMicros(
      const std::string& clinic, const std::string& patient_id,
      const Snapshot* snapshot) override {
    const std::string prefix = ki::PatientPrefix(clinic, patient_id);
    std::optional<int64_t> last;
    auto found = VisitLast(kEvents, prefix, snapshot, "last event",
                           [&](absl::string_view key, absl::string_view) {
                             last = ki::ReadTime(key.substr(prefix.size(), 8));
                           });
    if (!found.ok()) return found.status();
    return last;
  }

  // Written unsynced under the patient's lock (which orders it against an
  // erasure), then made durable by a group sync after the lock is let go:
  // concurrent evaluations share one fsync and none holds the patient
  // while it waits on the disk. The caller is answered only after the sync;
  // until then another reader may already see the evaluation, and a crash
  // in that window loses it (docs/OPERATIONS.md, "Durability"). With
  // kCoveredByNextSync the caller's own synced write does that instead.
  absl::Status PutEvaluation(const Evaluation& evaluation,
                             Durability durability) override {
    if (auto st = WriteEvaluation(evaluation); !st.ok()) return st;
    if (!sync_.sync || durability != Durability::kSynced) {
      return absl::OkStatus();
    }
    return evaluation_sync_.WaitDurable();
  }

  // A caseload group: checked and written, synced, under every stripe of
  // the group, so an erasure cannot slip between a patient's check and the
  // batch. One fsync per group already; keeping it inside the locks keeps
  // "error means nothing of the group is visible" simple.
  absl::StatusOr<std::vector<absl::Status>> PutEvaluations(
      absl::Span<const EvaluationWrite> writes) override {
    std::vector<absl::Status> results;
    if (auto st = WriteEvaluationGroup(writes, &results); !st.ok()) return st;
    return results;
  }

  absl::StatusOr<Evaluation> GetEvaluation(
      const std::string& clinic, const std::string& patient_id,
      const std::string& evaluation_id) override {
    return ReadEvaluation(clinic, patient_id, evaluation_id, nullptr);
  }

  absl::StatusOr<Evaluation> GetLatestEvaluation(
      const std::string& clinic, const std::string& patient_id,
      const Snapshot* snapshot) override {
    auto id = ReadValue(kLatestEval, ki::PatientKey(clinic, patient_id),
                        snapshot, "latest evaluation", [&] {
                          return absl::StrCat("patient '", patient_id,
                                              "' has no evaluation");
                        });
    if (!id.ok()) return id.status();
    return ReadEvaluation(clinic, patient_id, *id, snapshot);
  }

  absl::Status PutPolicy(const std::string& clinic, ClinicPolicy& policy,
                         int64_t expected_version) override {
    absl::MutexLock lock(&StripeFor(ki::ClinicPrefix(clinic)));
    int64_t current = 0;
    auto latest = GetPolicy(clinic, 0, nullptr);
    if (latest.ok()) {
      current = latest->version();
    } else if (!absl::IsNotFound(latest.status())) {
      return latest.status();
    }
    if (expected_version >= 0 && expected_version != current) {
      return absl::FailedPreconditionError(
          absl::StrCat("expected_version ", expected_version,
                       " is not the current policy "
                       "version ",
                       current, "; re-read the policy and retry"));
    }
    policy.set_version(current + 1);
    rocksdb::WriteBatch batch;
    batch.Put(cfs_[kPolicies], ki::PolicyKey(clinic, policy.version()),
              Serialize(policy));
    return Write(sync_, &batch, "store policy");
  }

  absl::StatusOr<ClinicPolicy> GetPolicy(const std::string& clinic,
                                         int64_t version,
                                         const Snapshot* snapshot) override {
    if (version > 0) {
      return ReadParsed<ClinicPolicy>(
          kPolicies, ki::PolicyKey(clinic, version), snapshot, "policy", [&] {
            return absl::StrCat("policy version ", version, " not found");
          });
    }
    absl::StatusOr<ClinicPolicy> current =
        absl::NotFoundError("clinic has no stored policy");
    auto found =
        VisitLast(kPolicies, ki::ClinicPrefix(clinic), snapshot, "read policy",
                  [&](absl::string_view, absl::string_view value) {
                    current = ParseStored<ClinicPolicy>(value, "policy");
                  });
    if (!found.ok()) return found.status();
    return current;
  }

  absl::StatusOr<std::string> PutFeedback(const std::string& clinic,
                                          const std::string& patient_id,
                                          const std::string& evaluation_id,
                                          const std::string& record) override {
    // Under the patient's lock and only while the patient exists, so
    // feedback racing an erasure can never outlive it.
    const std::string pkey = ki::PatientKey(clinic, patient_id);
    absl::MutexLock lock(&StripeFor(pkey));
    if (auto st = RequirePatient(pkey, patient_id); !st.ok()) return st;
    std::string key = absl::StrCat(ki::PatientPrefix(clinic, patient_id),
                                   evaluation_id, absl::string_view("\0", 1));
    ki::AppendTime(&key, NowMicros());
    ki::AppendBigEndian64(&key, seq_.fetch_add(1));
    const std::string id = absl::BytesToHexString(key.substr(key.size() - 16));
    rocksdb::WriteBatch batch;
    batch.Put(cfs_[kFeedback], key, record);
    if (auto st = Write(sync_, &batch, "store feedback"); !st.ok()) {
      return st;
    }
    return id;
  }

  absl::Status PutPatientRecord(const std::string& clinic,
                                const std::string& patient_id,
                                const std::string& key,
                                const std::string& value,
                                bool durable) override {
    // Under the patient's lock and only while the patient exists: a record
    // written just after an erasure would keep the id in a key forever.
    const std::string pkey = ki::PatientKey(clinic, patient_id);
    absl::MutexLock lock(&StripeFor(pkey));
    if (auto st = RequirePatient(pkey, patient_id); !st.ok()) return st;
    rocksdb::WriteBatch batch;
    batch.Put(cfs_[kRecords],
              absl::StrCat(ki::PatientPrefix(clinic, patient_id), key), value);
    return Write(durable ? sync_ : nosync_, &batch, "store patient record");
  }

  absl::StatusOr<std::string> GetPatientRecord(
      const std::string& clinic, const std::string& patient_id,
      const std::string& key, const Snapshot* snapshot) override {
    return ReadValue(
        kRecords, absl::StrCat(ki::PatientPrefix(clinic, patient_id), key),
        snapshot, "patient record",
        [&] { return absl::StrCat("record '", key, "' not found"); });
  }

  absl::Status PutRecord(const std::string& clinic, const std::string& key,
                         const std::string& value) override {
    rocksdb::WriteBatch batch;
    batch.Put(cfs_[kRecords], absl::StrCat(ki::ClinicPrefix(clinic), key),
              value);
    return Write(sync_, &batch, "store record");
  }

  absl::StatusOr<std::string> GetRecord(const std::string& clinic,
                                        const std::string& key,
                                        const Snapshot* snapshot) override {
    return ReadValue(
        kRecords, absl::StrCat(ki::ClinicPrefix(clinic), key), snapshot,
        "record", [&] { return absl::StrCat("record '", key, "' not found"); });
  }

  absl::Status PutPatientOwnedRecord(const std::string& clinic,
                                     const std::string& patient_id,
                                     const std::string& key,
                                     const std::string& value,
                                     Durability durability) override {
    // The clinic-level record and the patient's marker naming it go in one
    // batch, under the patient's lock and only while the patient exists,
    // so an erasure never misses a record.
    const std::string pkey = ki::PatientKey(clinic, patient_id);
    absl::MutexLock lock(&StripeFor(pkey));
    if (auto st = RequirePatient(pkey, patient_id); !st.ok()) return st;
    rocksdb::WriteBatch batch;
    batch.Put(cfs_[kRecords], absl::StrCat(ki::ClinicPrefix(clinic), key),
              value);
    batch.Put(
        cfs_[kRecords],
        absl::StrCat(ki::PatientPrefix(clinic, patient_id), kOwnedMarker, key),
        "");
    return Write(durability == Durability::kSynced ? sync_ : nosync_, &batch,
                 "store patient-owned record");
  }

  absl::Status PutServerRecord(const std::string& key,
                               const std::string& value) override {
    rocksdb::WriteBatch batch;
    batch.Put(cfs_[kRecords], ServerKey(key), value);
    return Write(sync_, &batch, "store server record");
  }

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
  ListServerRecords(const std::string& prefix) override {
    const size_t skip = ServerKey("").size();
    std::vector<std::pair<std::string, std::string>> out;
    auto st =
        ScanPrefix(kRecords, ServerKey(prefix), nullptr, "list server records",
                   [&](const rocksdb::Slice& key,
                       const rocksdb::Slice& value) -> absl::StatusOr<Scan> {
                     out.emplace_back(std::string(View(key).substr(skip)),
                                      value.ToString());
                     return Scan::kNext;
                   });
    if (!st.ok()) return st;
    return out;
  }

  absl::Status AppendAudit(
      const std::vector<std::pair<uint64_t, std::string>>& entries) override {
    rocksdb::WriteBatch batch;
    for (const auto& [seq, value] : entries) {
      batch.Put(cfs_[kAudit], AuditKey(seq), value);
    }
    return Write(sync_, &batch, "append audit");
  }

  absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> ReadAudit(
      uint64_t from_seq, int limit) override {
    std::vector<std::pair<uint64_t, std::string>> out;
    auto st = ScanRange(
        kAudit, AuditKey(from_seq), "", nullptr, "read audit",
        [&](const rocksdb::Slice& key,
            const rocksdb::Slice& value) -> absl::StatusOr<Scan> {
          if (static_cast<int>(out.size()) >= limit) return Scan::kStop;
          if (key.size() != 8) return Scan::kNext;  // An older format.
          out.emplace_back(ki::ReadBigEndian64(View(key)), value.ToString());
          return Scan::kNext;
        });
    if (!st.ok()) return st;
    return out;
  }

  std::unique_ptr<Snapshot> GetSnapshot() override {
    return std::make_unique<RocksSnapshot>(db_.get(), db_->GetSnapshot());
  }

  absl::Status Flush() override {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    rocksdb::Status s = db_->Flush(fo, cfs_);
    if (s.ok()) s = db_->SyncWAL();
    NoteWriteFailure(s);
    return FromRocks(s, "flush");
  }

  bool WriteFailed() const override { return write_failed_.load(); }

  absl::StatusOr<BackupInfo> CreateBackup(const std::string& dir,
                                          int keep) override {
    return storage_internal::CreateBackupOf(db_.get(), dir, keep);
  }

  StoreFigures Figures() override {
    StoreFigures f;
    uint64_t v = 0;
    if (db_->GetAggregatedIntProperty(
            rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &v)) {
      f.pending_compaction_bytes = v;
    }
    if (db_->GetAggregatedIntProperty(
            rocksdb::DB::Properties::kEstimateLiveDataSize, &v)) {
      f.live_data_bytes = v;
    }
    if (db_->GetAggregatedIntProperty(
            rocksdb::DB::Properties::kTotalSstFilesSize, &v)) {
      f.sst_files_bytes = v;
    }
    if (const auto stats = db_->GetDBOptions().statistics) {
      f.block_cache_hits = stats->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
      f.block_cache_misses = stats->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
    }
    return f;
  }

  absl::Status Checkpoint(const std::string& dir) override {
    rocksdb::Checkpoint* raw = nullptr;
    if (auto st = FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw),
                            "checkpoint");
        !st.ok()) {
      return st;
    }
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    if (auto st = FromRocks(cp->CreateCheckpoint(dir), "checkpoint " + dir);
        !st.ok()) {
      return st;
    }
    MakePrivate(dir);
    return absl::OkStatus();
  }

 private:
  // Every write goes through here, so a failure of any of them marks the
  // store for reopening.
  absl::Status Write(const rocksdb::WriteOptions& options,
                     rocksdb::WriteBatch* batch, absl::string_view what) {
    rocksdb::Status s;
    const int64_t start = metrics::NowNanos();
    {
      UncheckedByTsan unchecked;
      s = db_->Write(options, batch);
    }
    if (options.sync)
      WalSyncSeconds("synced_write").Observe(metrics::SecondsSince(start));
    NoteWriteFailure(s);
    return FromRocks(s, what);
  }

  // PutEvaluation's write, without the sync.
  absl::Status WriteEvaluation(const Evaluation& evaluation) {
    const std::string pkey =
        ki::PatientKey(evaluation.clinic_id(), evaluation.patient_id());
    absl::MutexLock lock(&StripeFor(pkey));
    rocksdb::WriteBatch batch;
    StagedEvaluations staged;
    if (auto st = StageEvaluation(evaluation, {}, &staged, &batch); !st.ok()) {
      return st;
    }
    return Write(nosync_, &batch, "store evaluation");
  }

  // PutEvaluations' write: one status per write in `results`, or the
  // batch's error.
  absl::Status WriteEvaluationGroup(absl::Span<const EvaluationWrite> writes,
                                    std::vector<absl::Status>* results) {
    std::vector<absl::Mutex*> stripes;
    stripes.reserve(writes.size());
    for (const EvaluationWrite& w : writes) {
      stripes.push_back(&StripeFor(
          ki::PatientKey(w.evaluation.clinic_id(), w.evaluation.patient_id())));
    }
    StripeGroupLock lock(std::move(stripes));
    results->reserve(writes.size());
    rocksdb::WriteBatch batch;
    StagedEvaluations staged;
    for (const EvaluationWrite& w : writes) {
      results->push_back(
          StageEvaluation(w.evaluation, w.records, &staged, &batch));
    }
    if (batch.Count() == 0) return absl::OkStatus();
    return Write(sync_, &batch, "store evaluations");
  }

  absl::Status SyncWal() {
    rocksdb::Status s;
    const int64_t start = metrics::NowNanos();
    {
      UncheckedByTsan unchecked;
      s = db_->SyncWAL();
    }
    WalSyncSeconds("group_sync").Observe(metrics::SecondsSince(start));
    NoteWriteFailure(s);
    return FromRocks(s, "sync the write-ahead log");
  }

  // After an I/O error RocksDB refuses writes until it is reopened (the
  // write-ahead log may end in a partial record); say so to the wrapper.
  void NoteWriteFailure(const rocksdb::Status& s) {
    if (s.IsIOError()) write_failed_ = true;
  }

  // Adds to `batch` what storing `evaluation` writes: the evaluation (unless
  // stored already with the same bytes), the latest pointer and `records`.
  // NOT_FOUND for an erased patient, ALREADY_EXISTS for an id stored (or
  // staged) with other bytes; `batch` is then unchanged. Callers hold the
  // patient's stripe until the batch is written.
  absl::Status StageEvaluation(const Evaluation& evaluation,
                               const Records& records,
                               StagedEvaluations* staged,
                               rocksdb::WriteBatch* batch) {
    const std::string pkey =
        ki::PatientKey(evaluation.clinic_id(), evaluation.patient_id());
    // Refuse to store for a patient erased while the evaluation ran.
    if (auto st = RequirePatient(pkey, evaluation.patient_id()); !st.ok()) {
      return st;
    }
    const std::string prefix =
        ki::PatientPrefix(evaluation.clinic_id(), evaluation.patient_id());
    const std::string key = prefix + evaluation.evaluation_id();
    std::string value = Serialize(evaluation);
    // The record of advice shown is never rewritten: an id names its
    // content, so the same id with other bytes is refused.
    absl::StatusOr<std::string> stored;
    if (auto it = staged->find(key); it != staged->end()) {
      stored = it->second;
    } else {
      stored = ReadValue(kEvaluations, key, nullptr, "evaluation",
                         [] { return std::string(); });
      if (!stored.ok() && !absl::IsNotFound(stored.status())) {
        return stored.status();
      }
    }
    if (stored.ok() && *stored != value) {
      return absl::AlreadyExistsError(
          absl::StrCat("evaluation '", evaluation.evaluation_id(),
                       "' is stored with other content; not overwritten"));
    }
    if (!stored.ok()) {
      batch->Put(cfs_[kEvaluations], key, value);
      staged->emplace(key, std::move(value));
    }
    batch->Put(cfs_[kLatestEval], pkey, evaluation.evaluation_id());
    for (const auto& [name, record] : records) {
      batch->Put(cfs_[kRecords], prefix + name, record);
    }
    return absl::OkStatus();
  }

  // NOT_FOUND unless the patient record exists. Callers hold its stripe.
  absl::Status RequirePatient(const std::string& pkey,
                              const std::string& patient_id) {
    return ReadValue(kPatients, pkey, nullptr, "patient record",
                     [&] { return PatientNotFound(patient_id); })
        .status();
  }

  static std::string PatientNotFound(const std::string& patient_id) {
    return absl::StrCat("patient '", patient_id, "' not found");
  }

  rocksdb::ReadOptions ReadOpts(const Snapshot* snapshot) const {
    rocksdb::ReadOptions ro;
    if (snapshot != nullptr) {
      ro.snapshot = static_cast<const RocksSnapshot*>(snapshot)->get();
    }
    return ro;
  }

  // The value of `key` in `cf` as `snapshot` sees it (null = now).
  // NOT_FOUND with the message `missing()` when absent; other failures name
  // `noun`.
  template <typename Missing>
  absl::StatusOr<std::string> ReadValue(Cf cf, const std::string& key,
                                        const Snapshot* snapshot,
                                        absl::string_view noun,
                                        Missing&& missing) {
    std::string value;
    rocksdb::Status s = db_->Get(ReadOpts(snapshot), cfs_[cf], key, &value);
    if (s.IsNotFound()) return absl::NotFoundError(missing());
    if (!s.ok()) return FromRocks(s, absl::StrCat("read ", noun));
    return value;
  }

  // ReadValue, parsed as T (DATA_LOSS when it does not parse).
  template <typename T, typename Missing>
  absl::StatusOr<T> ReadParsed(Cf cf, const std::string& key,
                               const Snapshot* snapshot, absl::string_view noun,
                               Missing&& missing) {
    auto value = ReadValue(cf, key, snapshot, noun, missing);
    if (!value.ok()) return value.status();
    return ParseStored<T>(*value, noun);
  }

  // Calls `visit(key, value)` for each entry of `cf` with start <= key < end
  // (no upper bound when `end` is empty), in key order, as `snapshot` sees
  // it. `visit` returns Scan::kNext, Scan::kStop, or an error, which ends the
  // scan with that status. The slices are valid only during the call.
  template <typename Visit>
  absl::Status ScanRange(Cf cf, const std::string& start,
                         const std::string& end, const Snapshot* snapshot,
                         absl::string_view what, Visit&& visit) {
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions ro = ReadOpts(snapshot);
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[cf]));
    for (it->Seek(start); it->Valid(); it->Next()) {
      absl::StatusOr<Scan> step = visit(it->key(), it->value());
      if (!step.ok()) return step.status();
      if (*step == Scan::kStop) break;
    }
    return FromRocks(it->status(), what);
  }

  // ScanRange over every key that starts with `prefix`.
  template <typename Visit>
  absl::Status ScanPrefix(Cf cf, const std::string& prefix,
                          const Snapshot* snapshot, absl::string_view what,
                          Visit&& visit) {
    return ScanRange(cf, prefix, ki::PrefixEnd(prefix), snapshot, what,
                     std::forward<Visit>(visit));
  }

  // The events of one patient with occurred_at <= as_of_us, in order.
  template <typename Visit>
  absl::Status ScanTimeline(const std::string& clinic,
                            const std::string& patient_id, int64_t as_of_us,
                            const Snapshot* snapshot, Visit&& visit) {
    const std::string prefix = ki::PatientPrefix(clinic, patient_id);
    std::string end = prefix;
    // Events at exactly as_of are included: bound at as_of + 1 us.
    ki::AppendTime(&end, as_of_us + 1);
    return ScanRange(kEvents, prefix, end, snapshot, "load timeline",
                     std::forward<Visit>(visit));
  }

  // Calls `visit(key, value)` on the last entry of `cf` whose key starts
  // with `prefix`, as `snapshot` sees it; false when there is none.
  template <typename Visit>
  absl::StatusOr<bool> VisitLast(Cf cf, const std::string& prefix,
                                 const Snapshot* snapshot,
                                 absl::string_view what, Visit&& visit) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(ReadOpts(snapshot), cfs_[cf]));
    it->SeekForPrev(ki::PrefixEnd(prefix));
    if (it->Valid() && it->key().starts_with(prefix)) {
      visit(View(it->key()), View(it->value()));
      return true;
    }
    if (auto st = FromRocks(it->status(), what); !st.ok()) return st;
    return false;
  }

  absl::StatusOr<Evaluation> ReadEvaluation(const std::string& clinic,
                                            const std::string& patient_id,
                                            const std::string& evaluation_id,
                                            const Snapshot* snapshot) {
    return ReadParsed<Evaluation>(
        kEvaluations,
        absl::StrCat(ki::PatientPrefix(clinic, patient_id), evaluation_id),
        snapshot, "evaluation", [&] {
          return absl::StrCat("evaluation '", evaluation_id,
                              "' not found for patient '", patient_id, "'");
        });
  }

  absl::StatusOr<int64_t> CountPrefix(Cf cf, const std::string& prefix) {
    int64_t n = 0;
    auto st = ScanPrefix(cf, prefix, nullptr, "count records",
                         [&](const rocksdb::Slice&,
                             const rocksdb::Slice&) -> absl::StatusOr<Scan> {
                           ++n;
                           return Scan::kNext;
                         });
    if (!st.ok()) return st;
    return n;
  }

  // Adds to `batch` the deletion of every clinic-level record the patient
  // owns (PutPatientOwnedRecord), found by the markers under the patient's
  // prefix (erased by the caller's range delete).
  absl::Status DeleteOwnedRecords(const std::string& clinic,
                                  const std::string& patient_prefix,
                                  rocksdb::WriteBatch* batch) {
    const std::string markers = absl::StrCat(patient_prefix, kOwnedMarker);
    const std::string clinic_prefix = ki::ClinicPrefix(clinic);
    return ScanPrefix(
        kRecords, markers, nullptr, "find patient-owned records",
        [&](const rocksdb::Slice& key,
            const rocksdb::Slice&) -> absl::StatusOr<Scan> {
          batch->Delete(
              cfs_[kRecords],
              absl::StrCat(clinic_prefix, View(key).substr(markers.size())));
          return Scan::kNext;
        });
  }

  // Server records live in the records family under a prefix no clinic id
  // can produce (ids never start with \x01).
  static std::string ServerKey(const std::string& key) {
    return absl::StrCat(std::string("\x01server\x00", 8), key);
  }

  static std::string AuditKey(uint64_t seq) {
    std::string key;
    ki::AppendBigEndian64(&key, seq);
    return key;
  }

  absl::Mutex& StripeFor(const std::string& key) {
    return stripes_[absl::Hash<std::string>()(key) % stripes_.size()];
  }

  std::unique_ptr<rocksdb::Env> env_;  // Null = the default; outlives db_.
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  rocksdb::WriteOptions sync_;
  rocksdb::WriteOptions nosync_;
  std::atomic<uint64_t> seq_{0};  // Tie-breaker in feedback keys.
  std::atomic<bool> write_failed_{false};
  std::array<absl::Mutex, 64> stripes_;
  storage_internal::GroupSync evaluation_sync_{[this] { return SyncWal(); }};
};

// What opening needs besides the options: the file system (the default,
// or the test's fault injector around it).
struct OpenContext {
  storage::StoreOptions options;
  std::shared_ptr<rocksdb::FileSystem> fs;
};

// The database's options; `env` receives the Env they point to when the
// file system is not the default one.
rocksdb::DBOptions DbOptions(const OpenContext& ctx,
                             const std::shared_ptr<rocksdb::Cache>& cache,
                             std::unique_ptr<rocksdb::Env>* env) {
  const StoreOptions& options = ctx.options;
  rocksdb::DBOptions db_options;
  if (ctx.fs != rocksdb::FileSystem::Default()) {
    *env = rocksdb::NewCompositeEnv(ctx.fs);
    db_options.env = env->get();
  }
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.paranoid_checks = true;
  db_options.IncreaseParallelism(2);
  db_options.max_open_files = options.max_open_files;
  // Writers waiting for a group commit block instead of spinning: on a
  // small machine the spin took 4-10% of the server's CPU under load
  // (bench/README.md) and competed with the work it was waiting for.
  db_options.enable_write_thread_adaptive_yield = false;
  // Recovery from background errors is the store's (see ManualRecovery).
  db_options.max_bgerror_resume_count = 0;
  db_options.listeners.push_back(std::make_shared<ManualRecovery>());
  // Not RocksDB's own LOG writer: on a full disk it aborts (info_log.h).
  db_options.info_log = storage_internal::NewInfoLog(options.path);
  // Tickers only (block cache hits and misses for the metrics): RocksDB's
  // histograms and timers cost CPU on every read and write.
  db_options.statistics = rocksdb::CreateDBStatistics();
  db_options.statistics->set_stats_level(
      rocksdb::StatsLevel::kExceptHistogramOrTimers);
  // One memory budget for the whole store, whatever the caseload: all
  // column families share one block cache, and their memtables count
  // against one write-buffer budget (charged to that cache) instead of
  // each family growing its own.
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(
          options.memtable_budget_bytes, cache);
  return db_options;
}

std::vector<rocksdb::ColumnFamilyDescriptor> ColumnFamilies(
    const StoreOptions& options, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : kCfNames) {
    rocksdb::ColumnFamilyOptions cf;
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf.write_buffer_size = options.memtable_budget_bytes / 4;
    descriptors.emplace_back(name, cf);
  }
  return descriptors;
}

// What a failed DB::Open means for the operator.
absl::Status OpenError(const rocksdb::Status& s, const StoreOptions& options) {
  const std::string msg = s.ToString();
  if (s.IsIOError() && absl::StrContains(msg, "lock")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", options.path,
        " is locked by another process (is a server already running on "
        "it?): ",
        msg));
  }
  if (s.IsCorruption()) {
    return absl::DataLossError(absl::StrCat(
        "data dir ", options.path, " is corrupt: ", msg,
        ". Restore from a checkpoint; the server will not start on it."));
  }
  if (s.IsInvalidArgument() && !options.create_if_missing) {
    return absl::NotFoundError(
        absl::StrCat("no store at ", options.path, ": ", msg));
  }
  absl::Status st = FromRocks(s, absl::StrCat("open data dir ", options.path));
  if (st.code() != absl::StatusCode::kInternal) return st;
  return absl::InternalError(
      absl::StrCat("cannot open data dir ", options.path, ": ", msg));
}

absl::StatusOr<std::unique_ptr<storage_internal::ReopenableStore>> OpenOnce(
    const OpenContext& ctx) {
  const StoreOptions& options = ctx.options;
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::unique_ptr<rocksdb::Env> env;
  rocksdb::DBOptions db_options = DbOptions(ctx, cache, &env);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(
      db_options, options.path, ColumnFamilies(options, cache), &handles, &raw);
  if (!s.ok()) return OpenError(s, options);
  return std::unique_ptr<storage_internal::ReopenableStore>(
      new RocksDbTimelineStore(std::move(env),
                               std::unique_ptr<rocksdb::DB>(raw),
                               std::move(handles), options.sync_writes));
}

// Whether a reopen can succeed now: enough free space for the memtables a
// reopen may flush plus a new log file, and a file can be created, written
// and synced in the data dir (which also needs a free descriptor).
absl::Status ProbeDataDir(const OpenContext& ctx) {
  const std::string& dir = ctx.options.path;
  const uint64_t need =
      ctx.options.memtable_budget_bytes + ctx.options.memtable_budget_bytes / 4;
  rocksdb::IOOptions io;
  uint64_t free_bytes = 0;
  if (ctx.fs->GetFreeSpace(dir, io, &free_bytes, nullptr).ok() &&
      free_bytes < need) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "disk full: writes are paused until space is freed (", free_bytes,
        " bytes free in ", dir, "; resuming needs ", need, ")"));
  }
  const std::string probe = dir + "/WRITE_PROBE";
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s =
      ctx.fs->NewWritableFile(probe, rocksdb::FileOptions(), &file, nullptr);
  if (s.ok()) s = file->Append(std::string(4096, '\0'), io, nullptr);
  if (s.ok()) s = file->Sync(io, nullptr);
  if (file != nullptr) file->Close(io, nullptr).PermitUncheckedError();
  ctx.fs->DeleteFile(probe, io, nullptr).PermitUncheckedError();
  return FromRocks(s, absl::StrCat("writes are paused: cannot write to ", dir));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TimelineStore>> OpenRocksDbStore(
    const StoreOptions& options) {
  if (options.create_if_missing) {
    // RocksDB creates only the last path component.
    std::error_code ec;
    std::filesystem::create_directories(options.path, ec);
    if (ec) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create data dir ", options.path, ": ", ec.message()));
    }
  }
  std::error_code ec;
  if (std::filesystem::is_directory(options.path, ec)) {
    MakePrivate(options.path);
  }
  auto ctx = std::make_shared<OpenContext>();
  ctx->options = options;
  ctx->fs = rocksdb::FileSystem::Default();
  if (options.fault_injector) {
    ctx->fs = storage_internal::NewFaultInjectionFileSystem(
        ctx->fs, options.fault_injector);
  }
  auto store = OpenOnce(*ctx);
  if (!store.ok()) return store.status();
  storage_internal::ReopenHooks hooks;
  hooks.open = [ctx] { return OpenOnce(*ctx); };
  hooks.probe = [ctx] { return ProbeDataDir(*ctx); };
  return storage_internal::NewReopeningStore(*std::move(store),
                                             std::move(hooks));
}

}  // namespace achilles::storage
