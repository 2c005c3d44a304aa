// The audit trail: one writer thread takes every pending entry, writes them
// in one synced batch (group commit), and wakes the callers waiting on them.
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/time_util.h"
#include "services/security/security.h"

namespace achilles::security {
namespace {

// How long a call waits for its audit entry to be synced.
constexpr auto kMaxWait = std::chrono::seconds(2);

// The fields an entry's link covers, in a fixed order: everything but the
// hashes themselves.
std::string Canonical(const v1::AuditRecord& r) {
  const absl::string_view sep("\0", 1);
  return absl::StrCat(r.seq(), sep, ToMicros(r.at()), sep, r.subject(), sep,
                      r.credential_id(), sep, r.clinic_id(), sep, r.peer(), sep,
                      r.method(), sep, r.patient_pseudonym(), sep, r.outcome());
}

}  // namespace

std::string AuditLog::Link(const std::string& prev,
                           const v1::AuditRecord& r) const {
  return secret_->Hmac(absl::StrCat(prev, "|", Canonical(r)));
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(
    storage::TimelineStore* store, const ServerSecret* secret) {
  std::unique_ptr<AuditLog> log(new AuditLog(store, secret));
  // Continue the chain from the last entry: walk to the end in pages.
  uint64_t from = 1;
  for (;;) {
    auto page = store->ReadAudit(from, 1000);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    v1::AuditRecord last;
    if (!last.ParseFromString(page->back().second)) {
      return absl::DataLossError("the last audit entry does not parse");
    }
    log->next_seq_ = last.seq() + 1;
    log->last_hash_ = last.hash();
    from = page->back().first + 1;
  }
  log->durable_seq_ = log->next_seq_ - 1;
  log->writer_ = std::thread([l = log.get()] { l->WriterLoop(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_writer_.notify_all();
  if (writer_.joinable()) writer_.join();
}

absl::Status AuditLog::Append(v1::AuditRecord record, bool wait) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stop_) return absl::UnavailableError("the audit log is closed");
  record.set_seq(next_seq_++);
  record.set_prev_hash(last_hash_);
  record.set_hash(Link(last_hash_, record));
  last_hash_ = record.hash();
  const uint64_t seq = record.seq();
  pending_.emplace_back(seq, record.SerializeAsString());
  wake_writer_.notify_one();
  if (!wait) return absl::OkStatus();
  // Bounded: with the disk full the entry stays queued (and is written, in
  // order, when space returns), but the call fails now instead of hanging.
  const bool durable = wake_callers_.wait_for(lock, kMaxWait, [&] {
    return durable_seq_ >= seq || seq < failed_below_seq_ || stop_;
  }) && durable_seq_ >= seq;
  if (seq < failed_below_seq_) {
    return absl::UnavailableError(absl::StrCat(
        "the write-ahead log could not be synced (", failed_with_.message(),
        "); what this call wrote may not be on disk: retry it"));
  }
  if (durable) return absl::OkStatus();
  if (stop_) return absl::UnavailableError("the audit log closed");
  return absl::UnavailableError(
      absl::StrCat("the audit entry is not yet on disk",
                   write_error_.ok() ? "" : ": ", write_error_.message()));
}

void AuditLog::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_writer_.wait(lock, [&] { return stop_ || !pending_.empty(); });
    if (pending_.empty()) return;  // Stopping with nothing left to write.
    std::vector<std::pair<uint64_t, std::string>> batch;
    batch.swap(pending_);
    lock.unlock();
    absl::Status st = store_->AppendAudit(batch);
    lock.lock();
    if (st.ok()) {
      durable_seq_ = batch.back().first;
      write_error_ = absl::OkStatus();
    } else {
      write_error_ = st;
      failed_below_seq_ = next_seq_;
      failed_with_ = st;
      if (stop_) {
        // Closing with the store still refusing: retrying forever would
        // hang shutdown. Every caller of these entries has already been
        // told they are not on disk (UNAVAILABLE), so nothing acknowledged
        // is lost; the count goes to the operator's log.
        Log(LogLevel::kError, "audit log closing: ", batch.size(),
            " entries could not be written: ", st.ToString());
        wake_callers_.notify_all();
        return;
      }
      // The entries stay in order for the next attempt; callers keep
      // waiting for them (or get the error when the log closes).
      pending_.insert(pending_.begin(), batch.begin(), batch.end());
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      lock.lock();
    }
    wake_callers_.notify_all();
  }
}

void AuditLog::AwaitWritten() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t appended = next_seq_ - 1;
  wake_callers_.wait_for(lock, kMaxWait,
                         [&] { return durable_seq_ >= appended || stop_; });
}

absl::StatusOr<v1::ListAuditResponse> AuditLog::List(
    uint64_t from_seq, int limit, const std::string& pseudonym) {
  AwaitWritten();
  v1::ListAuditResponse out;
  uint64_t from = std::max<uint64_t>(from_seq, 1);
  // A filter may skip many entries: read pages until the limit is filled.
  while (out.records_size() < limit) {
    auto page = store_->ReadAudit(from, 1000);
    if (!page.ok()) return page.status();
    if (page->empty()) return out;
    for (const auto& [seq, bytes] : *page) {
      from = seq + 1;
      v1::AuditRecord r;
      if (!r.ParseFromString(bytes)) {
        return absl::DataLossError(
            absl::StrCat("audit entry ", seq, " does not parse"));
      }
      if (!pseudonym.empty() && r.patient_pseudonym() != pseudonym) continue;
      *out.add_records() = std::move(r);
      if (out.records_size() == limit) break;
    }
  }
  out.set_next_seq(from);
  return out;
}

absl::StatusOr<v1::VerifyAuditResponse> AuditLog::Verify() {
  AwaitWritten();
  v1::VerifyAuditResponse out;
  std::string prev;
  uint64_t expect = 1;
  for (;;) {
    auto page = store_->ReadAudit(expect, 1000);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    for (const auto& [seq, bytes] : *page) {
      v1::AuditRecord r;
      std::string problem;
      if (seq != expect) {
        problem = absl::StrCat("entry ", expect, " is missing");
      } else if (!r.ParseFromString(bytes) || r.seq() != seq) {
        problem = absl::StrCat("entry ", seq, " does not parse");
      } else if (r.prev_hash() != prev || r.hash() != Link(prev, r)) {
        problem =
            absl::StrCat("entry ", seq, " does not chain to the one before it");
      }
      if (!problem.empty()) {
        out.set_problem(problem);
        out.set_records(expect - 1);
        return out;
      }
      prev = r.hash();
      ++expect;
    }
  }
  out.set_intact(true);
  out.set_records(expect - 1);
  return out;
}

}  // namespace achilles::security
