// Metrics and logs of a real server process under real traffic: the
// exposition passes promtool and its counters move with the calls; every
// log line is one JSON object; each call has its request line with the
// trace id it carried; no line names the patient.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "tests/common/events.h"
#include "tests/common/server_process.h"
#include "tests/common/temp_dir.h"
#include "tests/integration/tokens.h"

namespace achilles::testing {
namespace {

constexpr char kPatientId[] = "zq-7781-wren";
constexpr char kPatientName[] = "Xanthippe Quillfeather";
constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object()) << "not a JSON object: " << line;
    out.push_back(j);
  }
  return out;
}

// The value of the first sample line starting with `series` (exact labels).
double SampleValue(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

// The sum of the samples whose line starts with `prefix` and whose labels
// end with `suffix`.
double SumOf(const std::string& exposition, const std::string& prefix,
             const std::string& suffix) {
  std::istringstream in(exposition);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    const size_t space = line.rfind(' ');
    if (line.rfind(prefix, 0) != 0 || space == std::string::npos) continue;
    const std::string series = line.substr(0, space);
    if (series.size() >= suffix.size() &&
        series.compare(series.size() - suffix.size(), suffix.size(), suffix) ==
            0) {
      sum += std::stod(line.substr(space + 1));
    }
  }
  return sum;
}

class TelemetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = dir_.Sub("server.log");
    ProcessSetup setup;
    setup.flags = {"--log_level=info", "--log_format=json",
                   "--metrics_address=127.0.0.1:0",
                   std::string("--plugin_dir=") + BUNDLED_PLUGIN_DIR};
    setup.stderr_file = log_;
    server_ = std::make_unique<ServerProcess>(dir_.Sub("data"),
                                              dir_.Sub("port"), setup);
    ASSERT_GT(server_->WaitForPort(), 0) << ReadFile(log_);
    for (const auto& j : JsonLines(ReadFile(log_))) {
      if (j.value("msg", "") == "serving metrics") {
        metrics_port_ = j.value("port", 0);
      }
    }
    ASSERT_GT(metrics_port_, 0) << ReadFile(log_);
    token_ = IssueClinicToken(server_->Channel(),
                              ReadOperatorToken(dir_.Sub("data")), "clinic-a");
  }

  std::string Scrape() {
    httplib::Client client("127.0.0.1", metrics_port_);
    auto res = client.Get("/metrics");
    EXPECT_TRUE(res) << "no answer from the metrics endpoint";
    if (!res) return "";
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"),
              "text/plain; version=0.0.4; charset=utf-8");
    return res->body;
  }

  void Traffic() {
    auto patients = v1::PatientService::NewStub(server_->Channel());
    auto decisions = v1::DecisionService::NewStub(server_->Channel());
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, token_);
      v1::UpsertPatientRequest req;
      req.mutable_patient()->set_patient_id(kPatientId);
      req.mutable_patient()->set_display_name(kPatientName);
      v1::UpsertPatientResponse resp;
      ASSERT_TRUE(patients->UpsertPatient(&ctx, req, &resp).ok());
    }
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, token_);
      v1::AppendEventsRequest req;
      req.set_patient_id(kPatientId);
      *req.add_events() = RunEvent("run-1", Day(0), 2);
      *req.add_events() =
          Note("note-1", Day(0), std::string("seen with ") + kPatientName);
      v1::AppendEventsResponse resp;
      auto st = patients->AppendEvents(&ctx, req, &resp);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, token_);
      ctx.AddMetadata("traceparent",
                      std::string("00-") + kTraceId + "-00f067aa0ba902b7-01");
      v1::EvaluateRequest req;
      req.set_patient_id(kPatientId);
      *req.mutable_as_of() = FromMicros(Day(1));
      v1::EvaluateResponse resp;
      auto st = decisions->Evaluate(&ctx, req, &resp);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
    {
      // A refused call (unknown patient) names the patient too.
      grpc::ClientContext ctx;
      Authorize(&ctx, token_);
      v1::GetPatientRequest req;
      req.set_patient_id(std::string(kPatientId) + "-missing");
      v1::GetPatientResponse resp;
      EXPECT_EQ(patients->GetPatient(&ctx, req, &resp).error_code(),
                grpc::StatusCode::NOT_FOUND);
    }
  }

  TempDir dir_;
  std::string log_;
  std::unique_ptr<ServerProcess> server_;
  int metrics_port_ = 0;
  std::string token_;
};

TEST_F(TelemetryTest, ExpositionPassesPromtoolAndCountersMoveWithTraffic) {
  const std::string evaluate_ok =
      "achilles_rpc_requests_total{method=\"achilles.v1.DecisionService/"
      "Evaluate\",code=\"OK\"}";
  const std::string before = Scrape();
  EXPECT_EQ(SampleValue(before, evaluate_ok), -1) << "no Evaluate yet";
  Traffic();
  const std::string after = Scrape();
  EXPECT_EQ(SampleValue(after, evaluate_ok), 1) << after;
  EXPECT_EQ(SampleValue(after,
                        "achilles_rpc_requests_total{method=\"achilles.v1."
                        "PatientService/GetPatient\",code=\"NOT_FOUND\"}"),
            1);
  EXPECT_EQ(SampleValue(after,
                        "achilles_rpc_duration_seconds_count{method="
                        "\"achilles.v1.DecisionService/Evaluate\",code="
                        "\"OK\"}"),
            1);
  EXPECT_GT(SampleValue(after, "process_open_fds"), 0);
  EXPECT_GT(SampleValue(after, "process_resident_memory_bytes"), 0);
  EXPECT_GT(SampleValue(after, "process_start_time_seconds"), 1.7e9);
  EXPECT_GT(SampleValue(after, "achilles_store_disk_free_bytes"), 0);
  EXPECT_GE(SampleValue(after, "achilles_store_block_cache_misses_total"), 0);
  EXPECT_GE(SampleValue(after, "achilles_store_pending_compaction_bytes"), 0);
  EXPECT_GT(SampleValue(after,
                        "achilles_store_wal_sync_seconds_count{kind="
                        "\"synced_write\"}"),
            0);
  // The plugins the evaluation reached answered, and were timed.
  EXPECT_GT(SumOf(after, "achilles_plugin_calls_total{", "code=\"ok\"}"), 0)
      << after;
  EXPECT_NE(after.find("achilles_plugin_call_duration_seconds_bucket"),
            std::string::npos);
  double evaluations = 0;
  for (const char* o : {"high", "moderate", "low"}) {
    evaluations += std::max(
        0.0, SampleValue(after, std::string("achilles_evaluations_total{"
                                            "outcome=\"") +
                                    o + "\"}"));
  }
  EXPECT_EQ(evaluations, 1);
  EXPECT_NE(after.find("achilles_build_info{version=\""), std::string::npos);

  if (std::string(PROMTOOL).empty()) {
    GTEST_SKIP() << "promtool not found at configure time (Debian package "
                    "prometheus; deploy/setup.sh installs it)";
  }
  const std::string file = dir_.Sub("metrics.txt");
  std::ofstream(file) << after;
  const std::string cmd =
      std::string(PROMTOOL) + " check metrics < " + file + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << after;
}

TEST_F(TelemetryTest, OneJsonRequestLinePerCallAndNoPatientInAnyLine) {
  Traffic();
  Scrape();
  ASSERT_EQ(server_->SignalWithin(SIGTERM, std::chrono::seconds(20)) & 0x7f, 0);
  const std::string text = ReadFile(log_);
  const auto lines = JsonLines(text);
  int requests = 0, plugin_loads = 0;
  bool traced = false;
  for (const auto& j : lines) {
    ASSERT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg"))
        << j.dump();
    if (j["msg"] == "plugin loaded") ++plugin_loads;
    if (j["msg"] != "request") continue;
    ++requests;
    EXPECT_TRUE(j.contains("method") && j.contains("code") &&
                j.contains("latency_ms") && j.contains("caller") &&
                j.contains("peer"))
        << j.dump();
    if (j["method"] == "achilles.v1.DecisionService/Evaluate") {
      EXPECT_EQ(j.value("trace_id", ""), kTraceId);
      EXPECT_EQ(j.value("clinic", ""), "clinic-a");
      EXPECT_EQ(j.value("patient", "").size(), 32u) << "the pseudonym";
      traced = true;
    }
  }
  EXPECT_EQ(requests, 5);  // IssueToken and the four calls of Traffic().
  EXPECT_TRUE(traced);
  EXPECT_EQ(plugin_loads, 4);
  // The distinctive id and name, in any case and in part, nowhere.
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  for (const char* secret :
       {"zq-7781", "7781-wren", "xanthippe", "quillfeather"}) {
    EXPECT_EQ(lower.find(secret), std::string::npos)
        << secret << " appears in the log:\n"
        << text;
  }
}

}  // namespace
}  // namespace achilles::testing
