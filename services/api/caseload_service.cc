#include <deque>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/thread_util.h"
#include "services/api/api.h"
#include "services/caseload/caseload.h"

namespace achilles::api {
namespace {

constexpr char kReEvaluate[] = "achilles.v1.CaseloadService/ReEvaluate";

// One of the bounded number of concurrent runs; given back on destruction.
class RunSlot {
 public:
  explicit RunSlot(std::atomic<int>* runs) : runs_(runs) {}
  ~RunSlot() { runs_->fetch_sub(1); }
  RunSlot(const RunSlot&) = delete;
  RunSlot& operator=(const RunSlot&) = delete;

 private:
  std::atomic<int>* runs_;
};

// Streams one re-evaluation run. The run executes on its own thread and
// hands events to Send(), which queues them (bounded, so a slow client slows
// the run instead of growing memory) and keeps exactly one write in flight.
// A client that cancels or disconnects stops the run promptly. The run slot
// is held until the stream is done, so a client that stops reading keeps
// counting against the bound.
class ReEvaluateReactor final
    : public grpc::ServerWriteReactor<v1::ReEvaluateEvent> {
 public:
  ReEvaluateReactor(caseload::Deps deps, security::Caller caller,
                    v1::ReEvaluateRequest request,
                    grpc::CallbackServerContext* ctx, Backend* backend,
                    std::atomic<int>* runs)
      : deps_(deps),
        caller_(std::move(caller)),
        clinic_(caller_.clinic),
        request_(std::move(request)),
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

  bool Send(const v1::ReEvaluateEvent& event) {
    absl::MutexLock lock(&mu_);
    auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return queue_.size() < kMaxQueued || cancelled_.load();
    };
    mu_.Await(absl::Condition(&room));
    if (cancelled_) return false;
    if (!writing_) {
      current_ = event;
      writing_ = true;
      StartWrite(&current_);
    } else {
      queue_.push_back(event);
    }
    return true;
  }

  void Run() {
    absl::Status st = caseload::RunReEvaluation(
        deps_, clinic_, request_,
        [this](const v1::ReEvaluateEvent& e) { return Send(e); }, cancelled_);
    absl::MutexLock lock(&mu_);
    final_status_ = st;
    run_finished_ = true;
    MaybeFinishLocked();
  }

  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!run_finished_ || finish_called_ || writing_) return;
    if (!queue_.empty() && !cancelled_) return;
    finish_called_ = true;
    // The audit entry carries the run's outcome; the context stays valid
    // until OnDone.
    Finish(ToGrpc(
        FinishCall(ctx_, backend_, kReEvaluate, caller_, "", final_status_)));
  }

  caseload::Deps deps_;
  security::Caller caller_;
  std::string clinic_;
  v1::ReEvaluateRequest request_;
  grpc::CallbackServerContext* ctx_;
  Backend* backend_;
  RunSlot slot_;
  std::thread worker_;
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
  absl::StatusOr<security::Caller> caller = AdmitCall(ctx, b_, kReEvaluate);
  absl::Status refused = caller.status();
  if (refused.ok()) refused = RejectUnknownFields(*req);
  if (!refused.ok()) {
    return new FailedWriter(
        FinishCall(ctx, b_, kReEvaluate, caller, "", refused));
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
            "allows (--max_caseload_runs); retry when one has finished"))));
  }
  caseload::Deps deps;
  deps.store = b_->store;
  deps.engine = b_->engine;
  deps.host = b_->host;
  deps.interactive_in_flight = &b_->interactive_in_flight;
  deps.workers = workers_;
  auto* reactor =
      new ReEvaluateReactor(deps, *std::move(caller), *req, ctx, b_, &runs_);
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
        caseload::Deps deps;
        deps.store = b_->store;
        deps.engine = b_->engine;
        deps.host = b_->host;
        auto list = caseload::BuildWorklist(deps, *clinic, inner);
        if (!list.ok()) return list.status();
        *resp = *std::move(list);
        resp->set_next_page_token(
            SealPageToken(*b_->secret, scope, resp->next_page_token()));
        return absl::OkStatus();
      });
}

}  // namespace achilles::api
