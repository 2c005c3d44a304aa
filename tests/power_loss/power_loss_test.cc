// Durability against power loss. A real achilles-server runs under
// power_loss_shim (LD_PRELOAD), which keeps an image of what the disk would
// hold if the power went: only bytes fsynced and names whose directory was
// fsynced. Several clients append and evaluate concurrently; the server is
// SIGKILLed mid-load; the data directory is replaced by that image; a server
// WITHOUT the shim must open it cleanly and return every append and every
// stored evaluation it acknowledged. (Both are written without their own
// fsync and made durable by the call's synced audit entry: this is the test
// of that.)
//
// A kill -9 alone (tests/integration/crash_test.cc) keeps the page cache, so
// it passes even when nothing is ever fsynced. The second test proves this
// one does not: with --sync_writes=false it must find acknowledged appends
// missing.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "common/time_util.h"
#include "tests/common/events.h"
#include "tests/common/server_process.h"
#include "tests/common/temp_dir.h"
#include "tests/integration/tokens.h"
#include "tests/power_loss/durable_image.h"

namespace achilles::testing {
namespace {

constexpr int kClients = 4;
constexpr int kPatients = 2;

std::shared_ptr<grpc::Channel> Channel(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureChannelCredentials());
}

std::string PatientId(int i) { return "p" + std::to_string(i); }

grpc::Status Upsert(v1::PatientService::Stub& stub, const std::string& id,
                    const std::string& token) {
  grpc::ClientContext ctx;
  Authorize(&ctx, token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::UpsertPatientRequest req;
  v1::UpsertPatientResponse resp;
  req.mutable_patient()->set_patient_id(id);
  return stub.UpsertPatient(&ctx, req, &resp);
}

// Every event of `patient`, read back through the API (so each one also
// parses); an error status when the store cannot give them.
grpc::Status StoredEvents(v1::PatientService::Stub& stub,
                          const std::string& patient, const std::string& token,
                          std::set<std::string>* ids) {
  v1::ListEventsRequest req;
  req.set_patient_id(patient);
  req.set_page_size(1000);
  for (;;) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    v1::ListEventsResponse resp;
    grpc::Status st = stub.ListEvents(&ctx, req, &resp);
    if (!st.ok()) return st;
    for (const auto& e : resp.events()) {
      EXPECT_EQ(e.note().text(), "acked " + e.event_id());
      ids->insert(e.event_id());
    }
    if (resp.next_page_token().empty()) return grpc::Status::OK;
    req.set_page_token(resp.next_page_token());
  }
}

struct Outcome {
  size_t acked = 0;
  size_t lost = 0;
  size_t evaluations_acked = 0;
  size_t evaluations_lost = 0;
};

// One acknowledged evaluation: its patient and id.
using EvaluationRef = std::pair<std::string, std::string>;

grpc::Status Evaluate(v1::DecisionService::Stub& stub,
                      const std::string& patient, const std::string& token,
                      std::string* evaluation_id) {
  grpc::ClientContext ctx;
  Authorize(&ctx, token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::EvaluateRequest req;
  req.set_patient_id(patient);
  v1::EvaluateResponse resp;
  grpc::Status st = stub.Evaluate(&ctx, req, &resp);
  *evaluation_id = resp.evaluation().evaluation_id();
  return st;
}

grpc::Status GetEvaluation(v1::DecisionService::Stub& stub,
                           const EvaluationRef& ref, const std::string& token) {
  grpc::ClientContext ctx;
  Authorize(&ctx, token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::GetEvaluationRequest req;
  req.set_patient_id(ref.first);
  req.set_evaluation_id(ref.second);
  v1::GetEvaluationResponse resp;
  return stub.GetEvaluation(&ctx, req, &resp);
}

class PowerLoss {
 public:
  explicit PowerLoss(bool sync_writes) : sync_writes_(sync_writes) {
    std::filesystem::create_directory(dir_.Sub("data"));
  }

  // One power cut: load under the shim, SIGKILL, restore the image, then
  // check with a server that runs without the shim.
  void Round(int round, Outcome* out) {
    const std::string image = dir_.Sub("image" + std::to_string(round));
    {
      ServerProcess server(
          dir_.Sub("data"), dir_.Sub("port"),
          {"--plugin_dir=none",
           std::string("--sync_writes=") + (sync_writes_ ? "true" : "false")},
          "",
          {std::string("LD_PRELOAD=") + SHIM_LIBRARY,
           "ACH_POWER_LOSS_DIR=" + dir_.Sub("data"),
           "ACH_POWER_LOSS_IMAGE=" + image});
      const int port = server.WaitForPort();
      ASSERT_GT(port, 0) << "server under the shim did not start";
      // The token lives in the store (synced), so it survives the cuts.
      if (token_.empty()) {
        token_ = IssueClinicToken(Channel(port),
                                  ReadOperatorToken(dir_.Sub("data")));
      }
      Load(round, port);
      const int status = server.Signal(SIGKILL);
      stop_ = true;
      for (auto& t : writers_) t.join();
      writers_.clear();
      EXPECT_TRUE(WIFSIGNALED(status));
    }
    ASSERT_TRUE(RestoreDurableImage(image, dir_.Sub("data")).ok());

    // Without the shim: the store must open cleanly (a corrupt one makes the
    // server exit) and hold every acknowledged append.
    ServerProcess server(dir_.Sub("data"), dir_.Sub("port"),
                         {"--plugin_dir=none"});
    const int port = server.WaitForPort();
    ASSERT_GT(port, 0) << "server did not open the store left by the power cut";
    auto stub = v1::PatientService::NewStub(Channel(port));
    std::set<std::string> stored;
    for (int p = 0; p < kPatients; ++p) {
      grpc::Status st = StoredEvents(*stub, PatientId(p), token_, &stored);
      // Without syncing, the patient or even the credential (stored like
      // any other write) may be gone: both mean the appends are lost.
      EXPECT_TRUE(st.ok() ||
                  (!sync_writes_ &&
                   (st.error_code() == grpc::StatusCode::NOT_FOUND ||
                    st.error_code() == grpc::StatusCode::UNAUTHENTICATED)))
          << st.error_message();
    }
    CountLostEvaluations(Channel(port), out);
    std::lock_guard<std::mutex> lock(mu_);
    out->acked = acked_.size();
    out->lost = 0;
    for (const auto& id : acked_) {
      if (!stored.count(id)) {
        ++out->lost;
        if (sync_writes_ && out->lost <= 5) {
          ADD_FAILURE() << "lost acknowledged append " << id;
        }
      }
    }
    std::printf(
        "power cut %d (sync_writes=%s): %zu appends and %zu evaluations "
        "acknowledged so far, %zu and %zu missing after restart\n",
        round, sync_writes_ ? "true" : "false", out->acked,
        out->evaluations_acked, out->lost, out->evaluations_lost);
    stub.reset();
    const int status = server.Signal(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "server on the restored store did not shut down cleanly";
  }

 private:
  void CountLostEvaluations(const std::shared_ptr<grpc::Channel>& channel,
                            Outcome* out) {
    auto stub = v1::DecisionService::NewStub(channel);
    std::lock_guard<std::mutex> lock(mu_);
    out->evaluations_acked = evaluations_.size();
    out->evaluations_lost = 0;
    for (const auto& ref : evaluations_) {
      grpc::Status st = GetEvaluation(*stub, ref, token_);
      if (st.ok()) continue;
      ++out->evaluations_lost;
      if (sync_writes_ && out->evaluations_lost <= 5) {
        ADD_FAILURE() << "lost acknowledged evaluation " << ref.second << ": "
                      << st.error_message();
      }
    }
  }

  // Concurrent clients, each on its own channel, append one event per call
  // (and evaluate after every third) until the server dies; every OK is
  // recorded.
  void Load(int round, int port) {
    auto setup = v1::PatientService::NewStub(Channel(port));
    for (int p = 0; p < kPatients; ++p) {
      ASSERT_TRUE(Upsert(*setup, PatientId(p), token_).ok());
    }
    stop_ = false;
    for (int w = 0; w < kClients; ++w) {
      writers_.emplace_back([this, round, port, w] {
        auto channel = Channel(port);
        auto stub = v1::PatientService::NewStub(channel);
        auto decisions = v1::DecisionService::NewStub(channel);
        for (int i = 0; !stop_.load(); ++i) {
          const std::string id = "r" + std::to_string(round) + "c" +
                                 std::to_string(w) + "n" + std::to_string(i);
          v1::AppendEventsRequest req;
          req.set_patient_id(PatientId(w % kPatients));
          *req.add_events() =
              Note(id, NowMicros() - kMicrosPerHour, "acked " + id);
          v1::AppendEventsResponse resp;
          grpc::ClientContext ctx;
          Authorize(&ctx, token_);
          ctx.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
          if (!stub->AppendEvents(&ctx, req, &resp).ok()) return;
          {
            std::lock_guard<std::mutex> lock(mu_);
            acked_.insert(id);
          }
          if (i % 3 != 0) continue;
          std::string evaluation_id;
          const std::string patient = req.patient_id();
          if (!Evaluate(*decisions, patient, token_, &evaluation_id).ok()) {
            return;
          }
          std::lock_guard<std::mutex> lock(mu_);
          evaluations_.emplace_back(patient, evaluation_id);
        }
      });
    }
    // Long enough for a few hundred appends, also under sanitizers.
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  }

  const bool sync_writes_;
  TempDir dir_;
  std::string token_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> writers_;
  std::mutex mu_;
  std::set<std::string> acked_;
  std::vector<EvaluationRef> evaluations_;
};

TEST(PowerLossTest, EveryAcknowledgedAppendSurvivesPowerLoss) {
  PowerLoss test(/*sync_writes=*/true);
  Outcome outcome;
  for (int round = 0; round < 3; ++round) {
    test.Round(round, &outcome);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(outcome.acked, 20u) << "too few appends to prove anything";
  EXPECT_EQ(outcome.lost, 0u) << "of " << outcome.acked << " acknowledged";
  EXPECT_GT(outcome.evaluations_acked, 5u)
      << "too few evaluations to prove anything";
  EXPECT_EQ(outcome.evaluations_lost, 0u)
      << "of " << outcome.evaluations_acked << " acknowledged evaluations";
}

// The test can fail: a server that acknowledges before fsync loses appends.
TEST(PowerLossTest, FindsLostAppendsWhenTheServerDoesNotSync) {
  PowerLoss test(/*sync_writes=*/false);
  Outcome outcome;
  test.Round(0, &outcome);
  EXPECT_GT(outcome.acked, 20u) << "too few appends to prove anything";
  EXPECT_GT(outcome.lost, 0u)
      << "with --sync_writes=false every one of " << outcome.acked
      << " acknowledged appends survived the power cut: the simulation "
         "does not drop unsynced data";
}

}  // namespace
}  // namespace achilles::testing
