#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/thread_util.h"
#include "common/time_util.h"
#include "services/api/api.h"
#include "services/caseload/caseload.h"
#include "services/telemetry/telemetry.h"
#include "services/validation/validation.h"

namespace achilles::api {
namespace {

constexpr char kReEvaluate[] = "achilles.v1.CaseloadService/ReEvaluate";
// A delta batch is split into messages of about this size, far below what
// a default client accepts (4 MiB).
constexpr size_t kMaxBatchBytes = size_t{256} << 10;

// Field checks (INVALID_ARGUMENT naming the field), then the request in the
// caseload core's terms. How the fields combine is the core's to check.
absl::StatusOr<caseload::RunOptions> ToRunOptions(
    const std::string& clinic, const v1::ReEvaluateRequest& req) {
  caseload::RunOptions o;
  o.clinic = clinic;
  if (!req.resume_run_id().empty()) {
    if (auto st = validation::ValidateId("resume_run_id", req.resume_run_id());
        !st.ok()) {
      return st;
    }
    // Any other field, known to this server or not yet, is refused.
    v1::ReEvaluateRequest rest = req;
    rest.clear_resume_run_id();
    if (rest.ByteSizeLong() != 0) {
      return absl::InvalidArgumentError(
          "resume_run_id: give no other fields; a resumed run uses the "
          "scope and as_of it started with");
    }
    o.resume_run_id = req.resume_run_id();
    return o;
  }
  if (auto st = validation::ValidateIdList("patient_ids", req.patient_ids(),
                                           validation::kMaxPatientIds);
      !st.ok()) {
    return st;
  }
  if (req.has_policy_override()) {
    if (auto st = validation::ValidatePolicy(req.policy_override()); !st.ok()) {
      return st;
    }
    o.policy_override = req.policy_override();
  }
  if (req.has_as_of()) {
    if (auto st = validation::ValidatePastTimestamp("as_of", req.as_of(),
                                                    NowMicros());
        !st.ok()) {
      return st;
    }
    o.as_of_us = ToMicros(req.as_of());
  }
  if (req.has_events_since()) {
    if (auto st =
            validation::ValidateTimestamp("events_since", req.events_since());
        !st.ok()) {
      return st;
    }
    o.events_since_us = ToMicros(req.events_since());
  }
  o.patient_ids.assign(req.patient_ids().begin(), req.patient_ids().end());
  o.plugin_id = req.plugin_id();
  o.dry_run = req.dry_run();
  return o;
}

// One of the bounded number of concurrent runs; given back on destruction.
class RunSlot {
 public:
  explicit RunSlot(std::atomic<int>* runs) : runs_(runs) {}
  ~RunSlot() { Release(); }
  RunSlot(const RunSlot&) = delete;
  RunSlot& operator=(const RunSlot&) = delete;

  void Release() {
    if (runs_ != nullptr) runs_->fetch_sub(1);
    runs_ = nullptr;
  }

 private:
  std::atomic<int>* runs_;
};

// Streams one re-evaluation run. The run executes on its own thread and
// hands events to Send(), which queues them (bounded, so a slow client slows
// the run instead of growing memory) and keeps exactly one write in flight.
// A client that cancels or disconnects stops the run promptly. The run slot
// is held until the last write has completed (or the client has gone), so
// a client that stops reading keeps counting against the bound.
class ReEvaluateReactor final
    : public grpc::ServerWriteReactor<v1::ReEvaluateEvent> {
 public:
  ReEvaluateReactor(caseload::Deps deps, security::Caller caller,
                    caseload::RunOptions options,
                    grpc::CallbackServerContext* ctx, Backend* backend,
                    std::atomic<int>* runs, int64_t started_nanos)
      : started_nanos_(started_nanos),
        deps_(deps),
        caller_(std::move(caller)),
        options_(std::move(options)),
        ctx_(ctx),
        backend_(backend),
        slot_(runs) {}

  // Starts the run's thread; when the system refuses one, finishes the call
  // with RESOURCE_EXHAUSTED instead.
  void Start() {
    auto worker = StartThread("a caseload run", [this] { Run(); });
    if (worker.ok()) {
      worker_ = *std::move(worker);
      return;
    }
    absl::MutexLock lock(&mu_);
    final_status_ = worker.status();
    run_finished_ = true;
    MaybeFinishLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
    if (!cancelled_ && !queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      StartWrite(&current_);
      return;
    }
    MaybeFinishLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }

  void OnDone() override {
    if (worker_.joinable()) worker_.join();
    delete this;
  }

 private:
  static constexpr size_t kMaxQueued = 64;

  bool Send(v1::ReEvaluateEvent event) {
    absl::MutexLock lock(&mu_);
    auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return queue_.size() < kMaxQueued || cancelled_.load();
    };
    mu_.Await(absl::Condition(&room));
    if (cancelled_) return false;
    if (!writing_) {
      current_ = std::move(event);
      writing_ = true;
      StartWrite(&current_);
    } else {
      queue_.push_back(std::move(event));
    }
    return true;
  }

  v1::ReEvaluateEvent Event() const {
    v1::ReEvaluateEvent event;
    event.set_run_id(run_id_);
    return event;
  }

  // Several deltas per message, split so no message grows past
  // kMaxBatchBytes whatever the group size.
  bool SendDeltas(std::vector<v1::PatientDelta> deltas) {
    v1::ReEvaluateEvent event = Event();
    size_t bytes = 0;
    for (v1::PatientDelta& d : deltas) {
      const size_t size = d.ByteSizeLong();
      if (bytes > 0 && bytes + size > kMaxBatchBytes) {
        if (!Send(std::exchange(event, Event()))) return false;
        bytes = 0;
      }
      *event.mutable_delta_batch()->add_deltas() = std::move(d);
      bytes += size;
    }
    return bytes == 0 || Send(std::move(event));
  }

  caseload::RunSink Sink() {
    caseload::RunSink sink;
    // Set before the run starts its workers, which are the only other
    // threads that read it.
    sink.started = [this](const std::string& id) { run_id_ = id; };
    sink.deltas = [this](std::vector<v1::PatientDelta> deltas) {
      // Stored before the sink sees them: progress, whatever the client.
      telemetry::RecordCaseloadPatients(static_cast<int64_t>(deltas.size()));
      return SendDeltas(std::move(deltas));
    };
    sink.progress = [this](const v1::Progress& progress) {
      v1::ReEvaluateEvent event = Event();
      *event.mutable_progress() = progress;
      return Send(std::move(event));
    };
    sink.summary = [this](const v1::RunSummary& summary) {
      v1::ReEvaluateEvent event = Event();
      *event.mutable_summary() = summary;
      Send(std::move(event));
    };
    return sink;
  }

  void Run() {
    const caseload::RunSink sink = Sink();
    telemetry::RecordCaseloadRunStarted();
    absl::Status st =
        caseload::RunReEvaluation(deps_, options_, sink, cancelled_);
    telemetry::RecordCaseloadRunEnded(st.code());
    absl::MutexLock lock(&mu_);
    final_status_ = st;
    run_finished_ = true;
    MaybeFinishLocked();
  }

  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!run_finished_ || finish_called_ || writing_) return;
    if (!queue_.empty() && !cancelled_) return;
    finish_called_ = true;
    // Every write is done (or the client has gone): the run no longer
    // counts against the bound. Given back before Finish, so it never
    // touches the service after the client has its status (the server may
    // be shutting down by then).
    slot_.Release();
    // The audit entry carries the run's outcome; the context stays valid
    // until OnDone.
    Finish(ToGrpc(FinishCall(ctx_, backend_, kReEvaluate, caller_, "",
                             final_status_, started_nanos_)));
  }

  const int64_t started_nanos_;
  caseload::Deps deps_;
  security::Caller caller_;
  const caseload::RunOptions options_;
  grpc::CallbackServerContext* ctx_;
  Backend* backend_;
  RunSlot slot_ ABSL_GUARDED_BY(mu_);
  std::thread worker_;
  std::string run_id_;
  absl::Mutex mu_;
  std::atomic<bool> cancelled_{false};
  std::deque<v1::ReEvaluateEvent> queue_ ABSL_GUARDED_BY(mu_);
  v1::ReEvaluateEvent current_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool run_finished_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

// Finishes immediately with an error (bad metadata).
class FailedWriter final
    : public grpc::ServerWriteReactor<v1::ReEvaluateEvent> {
 public:
  explicit FailedWriter(const absl::Status& st) { Finish(ToGrpc(st)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<v1::ReEvaluateEvent>* CaseloadServiceImpl::ReEvaluate(
    grpc::CallbackServerContext* ctx, const v1::ReEvaluateRequest* req) {
  const int64_t started = metrics::NowNanos();
  absl::StatusOr<security::Caller> caller = AdmitCall(ctx, b_, kReEvaluate);
  absl::Status refused = caller.status();
  if (refused.ok()) refused = RejectUnknownFields(*req);
  absl::StatusOr<caseload::RunOptions> options;
  if (refused.ok()) {
    options = ToRunOptions(caller->clinic, *req);
    refused = options.status();
  }
  if (!refused.ok()) {
    return new FailedWriter(
        FinishCall(ctx, b_, kReEvaluate, caller, "", refused, started));
  }
  // Each run holds a snapshot and several threads for as long as its client
  // keeps the stream open: bound how many can exist at once.
  if (runs_.fetch_add(1) >= max_runs_) {
    runs_.fetch_sub(1);
    return new FailedWriter(FinishCall(
        ctx, b_, kReEvaluate, caller, "",
        absl::ResourceExhaustedError(absl::StrCat(
            "ReEvaluate: ", max_runs_,
            " caseload run(s) already in progress, the most this server "
            "allows (--max_caseload_runs); retry when one has finished")),
        started));
  }
  auto* reactor = new ReEvaluateReactor(
      *b_, *std::move(caller), *std::move(options), ctx, b_, &runs_, started);
  reactor->Start();
  return reactor;
}

grpc::ServerUnaryReactor* CaseloadServiceImpl::Worklist(
    grpc::CallbackServerContext* ctx, const v1::WorklistRequest* req,
    v1::WorklistResponse* resp) {
  return Serve(
      ctx, b_, "achilles.v1.CaseloadService/Worklist", *req, "",
      [=](const security::Caller& caller) -> absl::Status {
        const std::string* clinic = &caller.clinic;
        const std::string scope =
            absl::StrCat("Worklist", absl::string_view("\0", 1), *clinic,
                         absl::string_view("\0", 1), req->stale_after_days());
        auto position = OpenPageToken(*b_->secret, scope, req->page_token());
        if (!position.ok()) return position.status();
        v1::WorklistRequest inner = *req;
        inner.set_page_token(*position);
        auto list = caseload::BuildWorklist(*b_, *clinic, inner);
        if (!list.ok()) return list.status();
        *resp = *std::move(list);
        resp->set_next_page_token(
            SealPageToken(*b_->secret, scope, resp->next_page_token()));
        return absl::OkStatus();
      });
}

}  // namespace achilles::api
