#include "storage/internal/reopening_store.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"

namespace achilles::storage_internal {
namespace {

using ::achilles::storage::AppendResult;
using ::achilles::storage::DeleteResult;
using ::achilles::storage::EventPage;
using ::achilles::storage::PatientPage;
using ::achilles::storage::Snapshot;
using ::achilles::storage::TimelineStore;

constexpr bool kReads = false;
constexpr bool kWrites = true;

class ReopeningStore;

// The store a thread is inside, so that a nested call (a ForEachPatientId
// callback that reads more) reuses the outer hold instead of taking the
// lock again.
thread_local const ReopeningStore* t_inside = nullptr;

// A snapshot of the database that was open when it was taken. Reopening
// waits until every one is released, so `inner` stays valid.
class HeldSnapshot final : public Snapshot {
 public:
  HeldSnapshot(ReopeningStore* owner, std::unique_ptr<Snapshot> inner)
      : owner_(owner), inner_(std::move(inner)) {}
  ~HeldSnapshot() override;
  const Snapshot* inner() const { return inner_.get(); }

 private:
  ReopeningStore* owner_;
  std::unique_ptr<Snapshot> inner_;
};

const Snapshot* Inner(const Snapshot* s) {
  return s == nullptr ? nullptr : static_cast<const HeldSnapshot*>(s)->inner();
}

class ReopeningStore final : public TimelineStore {
 public:
  ReopeningStore(std::unique_ptr<ReopenableStore> store, ReopenHooks hooks)
      : store_(std::move(store)), hooks_(std::move(hooks)) {}

  absl::StatusOr<bool> UpsertPatient(const std::string& clinic,
                                     v1::Patient& patient) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.UpsertPatient(clinic, patient);
    });
  }
  absl::StatusOr<v1::Patient> GetPatient(const std::string& clinic,
                                         const std::string& patient_id,
                                         const Snapshot* snapshot) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.GetPatient(clinic, patient_id, Inner(snapshot));
    });
  }
  absl::StatusOr<DeleteResult> DeletePatient(
      const std::string& clinic, const std::string& patient_id) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.DeletePatient(clinic, patient_id);
    });
  }
  absl::StatusOr<PatientPage> ListPatients(const std::string& clinic,
                                           int page_size,
                                           const std::string& page_token,
                                           const Snapshot* snapshot) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.ListPatients(clinic, page_size, page_token, Inner(snapshot));
    });
  }
  absl::Status ForEachPatientId(
      const std::string& clinic,
      const std::function<absl::Status(const std::string&)>& fn,
      const Snapshot* snapshot) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.ForEachPatientId(clinic, fn, Inner(snapshot));
    });
  }
  absl::StatusOr<AppendResult> CreatePatientWithEvents(
      const std::string& clinic, v1::Patient& patient,
      const std::vector<v1::Event>& events) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.CreatePatientWithEvents(clinic, patient, events);
    });
  }
  absl::StatusOr<AppendResult> AppendEvents(
      const std::string& clinic, const std::string& patient_id,
      const std::vector<v1::Event>& events,
      storage::Durability durability) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.AppendEvents(clinic, patient_id, events, durability);
    });
  }
  absl::StatusOr<EventPage> ListEvents(const std::string& clinic,
                                       const std::string& patient_id,
                                       int64_t from_us, int64_t to_us,
                                       int page_size,
                                       const std::string& page_token) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.ListEvents(clinic, patient_id, from_us, to_us, page_size,
                          page_token);
    });
  }
  absl::StatusOr<std::vector<v1::Event>> LoadTimeline(
      const std::string& clinic, const std::string& patient_id,
      int64_t as_of_us, const Snapshot* snapshot) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.LoadTimeline(clinic, patient_id, as_of_us, Inner(snapshot));
    });
  }
  absl::StatusOr<storage::StoredTimeline> LoadStoredTimeline(
      const std::string& clinic, const std::string& patient_id,
      int64_t as_of_us, const Snapshot* snapshot) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.LoadStoredTimeline(clinic, patient_id, as_of_us,
                                  Inner(snapshot));
    });
  }
  absl::StatusOr<int64_t> CountEvents(const std::string& clinic,
                                      const std::string& patient_id) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.CountEvents(clinic, patient_id);
    });
  }
  absl::StatusOr<std::optional<int64_t>> LastEventMicros(
      const std::string& clinic, const std::string& patient_id,
      const Snapshot* snapshot) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.LastEventMicros(clinic, patient_id, Inner(snapshot));
    });
  }
  absl::Status PutEvaluation(const v1::Evaluation& evaluation,
                             storage::Durability durability) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.PutEvaluation(evaluation, durability);
    });
  }
  absl::StatusOr<std::vector<absl::Status>> PutEvaluations(
      absl::Span<const storage::EvaluationWrite> writes) override {
    return Call(kWrites,
                [&](TimelineStore& s) { return s.PutEvaluations(writes); });
  }
  absl::StatusOr<v1::Evaluation> GetEvaluation(
      const std::string& clinic, const std::string& patient_id,
      const std::string& evaluation_id) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.GetEvaluation(clinic, patient_id, evaluation_id);
    });
  }
  absl::StatusOr<v1::Evaluation> GetLatestEvaluation(
      const std::string& clinic, const std::string& patient_id,
      const Snapshot* snapshot) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.GetLatestEvaluation(clinic, patient_id, Inner(snapshot));
    });
  }
  absl::Status PutPolicy(const std::string& clinic, v1::ClinicPolicy& policy,
                         int64_t expected_version) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.PutPolicy(clinic, policy, expected_version);
    });
  }
  absl::StatusOr<v1::ClinicPolicy> GetPolicy(
      const std::string& clinic, int64_t version,
      const Snapshot* snapshot) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.GetPolicy(clinic, version, Inner(snapshot));
    });
  }
  absl::StatusOr<std::string> PutFeedback(const std::string& clinic,
                                          const std::string& patient_id,
                                          const std::string& evaluation_id,
                                          const std::string& record) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.PutFeedback(clinic, patient_id, evaluation_id, record);
    });
  }
  absl::Status PutPatientRecord(const std::string& clinic,
                                const std::string& patient_id,
                                const std::string& key,
                                const std::string& value,
                                bool durable) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.PutPatientRecord(clinic, patient_id, key, value, durable);
    });
  }
  absl::StatusOr<std::string> GetPatientRecord(
      const std::string& clinic, const std::string& patient_id,
      const std::string& key, const Snapshot* snapshot) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.GetPatientRecord(clinic, patient_id, key, Inner(snapshot));
    });
  }
  absl::Status PutRecord(const std::string& clinic, const std::string& key,
                         const std::string& value) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.PutRecord(clinic, key, value);
    });
  }
  absl::StatusOr<std::string> GetRecord(const std::string& clinic,
                                        const std::string& key,
                                        const Snapshot* snapshot) override {
    return Call(kReads, [&](TimelineStore& s) {
      return s.GetRecord(clinic, key, Inner(snapshot));
    });
  }
  absl::Status PutPatientOwnedRecord(const std::string& clinic,
                                     const std::string& patient_id,
                                     const std::string& key,
                                     const std::string& value,
                                     storage::Durability durability) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.PutPatientOwnedRecord(clinic, patient_id, key, value,
                                     durability);
    });
  }
  absl::Status PutServerRecord(const std::string& key,
                               const std::string& value) override {
    return Call(kWrites, [&](TimelineStore& s) {
      return s.PutServerRecord(key, value);
    });
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
  ListServerRecords(const std::string& prefix) override {
    return Call(kReads,
                [&](TimelineStore& s) { return s.ListServerRecords(prefix); });
  }
  absl::Status AppendAudit(
      const std::vector<std::pair<uint64_t, std::string>>& entries) override {
    return Call(kWrites,
                [&](TimelineStore& s) { return s.AppendAudit(entries); });
  }
  absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> ReadAudit(
      uint64_t from_seq, int limit) override {
    return Call(kReads,
                [&](TimelineStore& s) { return s.ReadAudit(from_seq, limit); });
  }
  std::unique_ptr<Snapshot> GetSnapshot() override {
    Hold hold(this);
    snapshots_.fetch_add(1);
    return std::make_unique<HeldSnapshot>(
        this, store_ == nullptr ? nullptr : store_->GetSnapshot());
  }
  absl::Status Flush() override {
    return Call(kWrites, [&](TimelineStore& s) { return s.Flush(); });
  }
  absl::Status Checkpoint(const std::string& dir) override {
    return Call(kReads, [&](TimelineStore& s) { return s.Checkpoint(dir); });
  }
  absl::StatusOr<storage::BackupInfo> CreateBackup(const std::string& dir,
                                                   int keep) override {
    return Call(kReads,
                [&](TimelineStore& s) -> absl::StatusOr<storage::BackupInfo> {
                  return s.CreateBackup(dir, keep);
                });
  }
  storage::StoreFigures Figures() override {
    Hold hold(this);
    return store_ == nullptr ? storage::StoreFigures{} : store_->Figures();
  }

 private:
  friend class HeldSnapshot;

  // A shared hold on the current store for the length of one call.
  class Hold {
   public:
    explicit Hold(ReopeningStore* s) : s_(s), outer_(t_inside) {
      if (outer_ != s_) {
        s_->mu_.ReaderLock();
        t_inside = s_;
      }
    }
    ~Hold() {
      if (outer_ != s_) {
        t_inside = outer_;
        s_->mu_.ReaderUnlock();
      }
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    ReopeningStore* s_;
    const ReopeningStore* outer_;
  };

  // Runs `fn` on the current store. A writing call first reopens the store
  // if an earlier write failed; any call does when the store is closed.
  template <typename Fn>
  auto Call(bool writes, Fn&& fn)
      -> decltype(fn(std::declval<TimelineStore&>())) {
    if (needs_reopen_.load() && (writes || closed_.load()) &&
        t_inside != this) {
      if (absl::Status st = Reopen(); !st.ok()) return st;
    }
    Hold hold(this);
    if (store_ == nullptr) {
      return absl::UnavailableError(absl::StrCat(
          "the store is closed after a failed write and could not be "
          "reopened yet: ",
          closed_reason_.message()));
    }
    auto result = fn(*store_);
    if (writes && store_->WriteFailed()) needs_reopen_ = true;
    return result;
  }

  absl::Status Reopen() {
    absl::MutexLock one_at_a_time(&reopen_mu_);
    if (!needs_reopen_.load()) return absl::OkStatus();
    if (absl::Status st = WaitingFor(); !st.ok()) return st;
    if (absl::Status st = hooks_.probe(); !st.ok()) return st;
    // Never wait as a writer: a reader blocked behind us could be the one
    // another reader is waiting for. Take the lock only when it is free.
    bool locked = mu_.WriterTryLock();
    for (int i = 0; i < 50 && !locked; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      locked = mu_.WriterTryLock();
    }
    if (!locked) {
      return absl::UnavailableError(
          "the store is reopening after a failed write; retry");
    }
    absl::Status st = WaitingFor();
    if (st.ok()) {
      store_.reset();  // Closes the database and releases its lock.
      auto reopened = hooks_.open();
      if (reopened.ok()) {
        store_ = *std::move(reopened);
        needs_reopen_ = false;
        closed_ = false;
      } else {
        closed_ = true;
        closed_reason_ = reopened.status();
        st = reopened.status();
      }
    }
    mu_.WriterUnlock();
    if (st.ok()) {
      Log(LogLevel::kWarning, "store reopened after a failed write; ",
          "writes resume");
    }
    return st;
  }

  // UNAVAILABLE while snapshots (caseload runs) keep the database open.
  absl::Status WaitingFor() const {
    const int n = snapshots_.load();
    if (n == 0) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat(
        "writes are paused after a failed write: the store reopens once ", n,
        " open snapshot(s) (caseload runs) finish"));
  }

  void Release(std::unique_ptr<Snapshot> inner) {
    Hold hold(this);
    inner.reset();
    snapshots_.fetch_sub(1);
  }

  absl::Mutex mu_;  // Shared by calls; exclusive while reopening.
  std::unique_ptr<ReopenableStore> store_;  // Null after a failed reopen.
  absl::Status closed_reason_;              // Guarded by mu_.
  std::atomic<bool> needs_reopen_{false};
  std::atomic<bool> closed_{false};
  std::atomic<int> snapshots_{0};
  absl::Mutex reopen_mu_;
  const ReopenHooks hooks_;
};

HeldSnapshot::~HeldSnapshot() { owner_->Release(std::move(inner_)); }

}  // namespace

std::unique_ptr<storage::TimelineStore> NewReopeningStore(
    std::unique_ptr<ReopenableStore> store, ReopenHooks hooks) {
  return std::make_unique<ReopeningStore>(std::move(store), std::move(hooks));
}

}  // namespace achilles::storage_internal
