// The FHIR client behind prefetch fetching, against a real HTTP server on
// loopback: every bound (bytes, time, pages, other servers) and refusal.
#include "services/ehr/internal/fhir_fetch.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/ehr/fhir_stub.h"

namespace achilles::ehr_internal {
namespace {

using Clock = std::chrono::steady_clock;

TEST(FhirFetchTest, OnlyHttpsUnlessHttpIsAllowed) {
  EXPECT_TRUE(CheckFhirServerUrl("https://fhir.example/r4", false).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(
      CheckFhirServerUrl("http://fhir.example", false)));
  EXPECT_TRUE(CheckFhirServerUrl("http://127.0.0.1:8080/fhir", true).ok());
  EXPECT_FALSE(CheckFhirServerUrl("ftp://fhir.example", true).ok());
  EXPECT_FALSE(CheckFhirServerUrl("https://user:pw@fhir.example", false).ok());
  EXPECT_FALSE(CheckFhirServerUrl("https://fhir.example/r4?x=1", false).ok());
  EXPECT_FALSE(CheckFhirServerUrl("https://", false).ok());
}

class FetchTest : public ::testing::Test {
 protected:
  FetchTest() : stub_("t") {
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
      res.set_content("{\"resourceType\":\"Patient\"}", "application/json");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"resourceType\":\"Patient\",\"x\":\"" +
                          std::string(100000, 'a') + "\"}",
                      "application/json");
    });
    server_.Get("/text", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    server_.Get("/away", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(
          R"({"resourceType":"Bundle","type":"searchset","entry":[],
              "link":[{"relation":"next","url":"http://elsewhere.test/x"}]})",
          "application/json");
    });
    server_.Get(
        "/loop", [](const httplib::Request& req, httplib::Response& res) {
          const std::string self =
              "http://127.0.0.1:" + std::to_string(req.local_port) + "/loop";
          res.set_content(R"({"resourceType":"Bundle","type":"searchset",
          "link":[{"relation":"next","url":")" +
                              self + "\"}]}",
                          "application/json");
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    options_.allow_http = true;
    options_.timeout_seconds = 1;
    options_.max_bytes = 50000;
  }
  ~FetchTest() override {
    server_.stop();
    thread_.join();
  }

  absl::StatusOr<Json> Fetch(const std::string& what) {
    FhirServer s{"http://127.0.0.1:" + std::to_string(port_), ""};
    return FetchFhir(s, what, options_, Clock::now() + std::chrono::seconds(1));
  }

  testing::FhirStub stub_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  FhirFetchOptions options_;
};

TEST_F(FetchTest, SearchsetPagesAreMergedAndTheTokenSent) {
  FhirServer s{stub_.base_url(), "t"};
  auto got = FetchFhir(s, "Observation?patient=p1", options_,
                       Clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)["type"], "searchset");
  EXPECT_EQ((*got)["entry"].size(), 21u);
  auto patient = FetchFhir(s, "Patient/p1", options_,
                           Clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(patient.ok());
  EXPECT_EQ((*patient)["id"], "p1");
  FhirServer no_token{stub_.base_url(), "other"};
  auto refused = FetchFhir(no_token, "Patient/p1", options_,
                           Clock::now() + std::chrono::seconds(5));
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("401"), std::string::npos);
  auto missing = FetchFhir(s, "Patient/unknown-to-ehr", options_,
                           Clock::now() + std::chrono::seconds(5));
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
}

TEST_F(FetchTest, EveryBoundHolds) {
  const auto start = Clock::now();
  EXPECT_TRUE(absl::IsDeadlineExceeded(Fetch("slow").status()));
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(2000));
  EXPECT_TRUE(absl::IsResourceExhausted(Fetch("big").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Fetch("text").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Fetch("away").status()))
      << "a next link to another server would carry the token there";
  EXPECT_TRUE(absl::IsResourceExhausted(Fetch("loop").status()));
  FhirServer closed{"http://127.0.0.1:1", ""};
  EXPECT_TRUE(
      absl::IsUnavailable(FetchFhir(closed, "Patient/x", options_,
                                    Clock::now() + std::chrono::seconds(1))
                              .status()));
  options_.allow_http = false;
  EXPECT_TRUE(absl::IsInvalidArgument(Fetch("big").status()));
}

}  // namespace
}  // namespace achilles::ehr_internal
