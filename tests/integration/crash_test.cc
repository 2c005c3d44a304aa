// Durability against kill -9: a real achilles-server process is SIGKILLed in
// the middle of a stream of appends; after a restart every append the server
// acknowledged must be there. Also checks that SIGTERM shuts down cleanly.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <thread>

#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "common/time_util.h"
#include "tests/common/events.h"
#include "tests/common/temp_dir.h"
#include "tests/integration/server_process.h"
#include "tests/integration/tokens.h"

namespace achilles::testing {
namespace {

std::shared_ptr<grpc::Channel> Channel(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureChannelCredentials());
}

std::unique_ptr<v1::PatientService::Stub> Connect(int port) {
  return v1::PatientService::NewStub(Channel(port));
}

// A clinic token for a server started on `data_dir` (issued once; tokens
// are stored, so they outlive restarts).
std::string ClinicToken(const std::string& data_dir, int port) {
  return IssueClinicToken(Channel(port), ReadOperatorToken(data_dir));
}

std::set<std::string> StoredIds(v1::PatientService::Stub& stub,
                                const std::string& patient,
                                const std::string& token) {
  std::set<std::string> ids;
  v1::ListEventsRequest req;
  req.set_patient_id(patient);
  req.set_page_size(1000);
  for (;;) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::ListEventsResponse resp;
    auto st = stub.ListEvents(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (!st.ok()) break;
    for (const auto& e : resp.events()) ids.insert(e.event_id());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  return ids;
}

TEST(CrashTest, EveryAcknowledgedAppendSurvivesSigkill) {
  TempDir dir;
  std::set<std::string> acked;
  std::string token;
  for (int round = 0; round < 3; ++round) {
    ServerProcess server(dir.Sub("data"), dir.Sub("port"));
    const int port = server.WaitForPort();
    ASSERT_GT(port, 0) << "server did not start";
    if (token.empty()) token = ClinicToken(dir.Sub("data"), port);
    auto stub = Connect(port);
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, token);
      v1::UpsertPatientRequest req;
      v1::UpsertPatientResponse resp;
      req.mutable_patient()->set_patient_id("p");
      ASSERT_TRUE(stub->UpsertPatient(&ctx, req, &resp).ok());
    }
    // Everything acknowledged in earlier rounds is still there.
    std::set<std::string> stored = StoredIds(*stub, "p", token);
    for (const auto& id : acked) {
      ASSERT_TRUE(stored.count(id)) << "lost acknowledged event " << id;
    }
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        auto own = Connect(port);
        for (int i = 0; !stop.load(); ++i) {
          const std::string id = "r" + std::to_string(round) + "w" +
                                 std::to_string(w) + "n" + std::to_string(i);
          v1::AppendEventsRequest req;
          req.set_patient_id("p");
          *req.add_events() = Note(id, NowMicros() - kMicrosPerHour);
          v1::AppendEventsResponse resp;
          grpc::ClientContext ctx;
          Authorize(&ctx, token);
          ctx.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(5));
          if (own->AppendEvents(&ctx, req, &resp).ok()) {
            std::lock_guard<std::mutex> lock(mu);
            acked.insert(id);
          } else {
            return;  // The server is gone.
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    const int status = server.Signal(SIGKILL);
    stop = true;
    for (auto& t : writers) t.join();
    EXPECT_TRUE(WIFSIGNALED(status));
  }
  ASSERT_GT(acked.size(), 20u) << "too few appends to prove anything";
  ServerProcess server(dir.Sub("data"), dir.Sub("port"));
  const int port = server.WaitForPort();
  ASSERT_GT(port, 0);
  auto stub = Connect(port);
  const std::set<std::string> stored = StoredIds(*stub, "p", token);
  size_t missing = 0;
  for (const auto& id : acked) missing += stored.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged appends";
}

TEST(CrashTest, SigtermShutsDownCleanlyAndReleasesTheLock) {
  TempDir dir;
  {
    ServerProcess server(dir.Sub("data"), dir.Sub("port"));
    ASSERT_GT(server.WaitForPort(), 0);
    const int status = server.Signal(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  // The lock was released: a new server starts on the same dir.
  ServerProcess again(dir.Sub("data"), dir.Sub("port"));
  EXPECT_GT(again.WaitForPort(), 0);
}

TEST(CrashTest, SecondServerOnALockedDirExitsWithAClearError) {
  TempDir dir;
  ServerProcess first(dir.Sub("data"), dir.Sub("port"));
  ASSERT_GT(first.WaitForPort(), 0);
  const std::string cmd =
      std::string(SERVER_BINARY) +
      " --listen=127.0.0.1:0 --data_dir=" + dir.Sub("data") + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(out.find("locked"), std::string::npos) << out;
}

TEST(CrashTest, IsolatedServerSurvivesACrashingPlugin) {
  TempDir dir;
  std::filesystem::create_directory(dir.Sub("plugins"));
  for (const char* p : {"crashing", "good"}) {
    std::filesystem::copy_file(std::string(TEST_PLUGIN_DIR) + "/" + p + ".so",
                               dir.Sub("plugins/") + p + ".so");
  }
  ServerProcess server(
      dir.Sub("data"), dir.Sub("port"),
      {"--plugin_dir=" + dir.Sub("plugins"), "--plugin_isolation=process"});
  const int port = server.WaitForPort();
  ASSERT_GT(port, 0);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  auto patients = v1::PatientService::NewStub(channel);
  auto decisions = v1::DecisionService::NewStub(channel);
  const std::string token = ClinicToken(dir.Sub("data"), port);
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::UpsertPatientRequest req;
    v1::UpsertPatientResponse resp;
    req.mutable_patient()->set_patient_id("p");
    ASSERT_TRUE(patients->UpsertPatient(&ctx, req, &resp).ok());
  }
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::EvaluateRequest req;
    v1::EvaluateResponse resp;
    req.set_patient_id("p");
    auto st = decisions->Evaluate(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    for (const auto& run : resp.evaluation().plugins()) {
      if (run.plugin_id() == "crashing") {
        EXPECT_EQ(run.status(), v1::PLUGIN_RUN_STATUS_FAILED);
        EXPECT_NE(run.error().find("crashed"), std::string::npos)
            << run.error();
      } else {
        EXPECT_EQ(run.status(), v1::PLUGIN_RUN_STATUS_OK) << run.error();
      }
    }
  }
  // Close our connection first: an idle client that polls nothing cannot
  // answer the graceful-GOAWAY ping, and the server would wait it out.
  patients.reset();
  decisions.reset();
  channel.reset();
  const int status = server.Signal(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Worker processes of a server that dies must not linger.
TEST(CrashTest, PluginWorkersDieWithAKilledServer) {
  TempDir dir;
  std::filesystem::create_directory(dir.Sub("plugins"));
  std::filesystem::copy_file(std::string(TEST_PLUGIN_DIR) + "/good.so",
                             dir.Sub("plugins/good.so"));
  // The server copies plugins into a private dir under its TMPDIR, and
  // workers are started with that copy's path: our workers are the ones
  // whose command line mentions our temp dir.
  auto workers_alive = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
      std::ifstream in(e.path() / "cmdline");
      std::string cmd((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
      if (cmd.find("achilles-plugin-worker") != std::string::npos &&
          cmd.find(dir.path()) != std::string::npos) {
        ++n;
      }
    }
    return n;
  };
  ServerProcess server(
      dir.Sub("data"), dir.Sub("port"),
      {"--plugin_dir=" + dir.Sub("plugins"), "--plugin_isolation=process"},
      dir.path());
  ASSERT_GT(server.WaitForPort(), 0);
  EXPECT_GT(workers_alive(), 0);
  server.Signal(SIGKILL);
  int alive = workers_alive();
  for (int i = 0; i < 40 && alive > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    alive = workers_alive();
  }
  EXPECT_EQ(alive, 0) << "plugin workers outlived their server";
}

}  // namespace
}  // namespace achilles::testing
