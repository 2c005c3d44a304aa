// A stand-in for an EHR's FHIR server in tests (a real one cannot run
// here): cpp-httplib on loopback, plain http, serving the red-flag timeline
// of fhir_bundles.h for any patient as Patient/{id} and as searchsets by
// resource type (Observation pages of five entries, linked by `next`).
// Requests without `Authorization: Bearer <token>` get 401. It records the
// paths it served.
#ifndef ACHILLES_TESTS_EHR_FHIR_STUB_H_
#define ACHILLES_TESTS_EHR_FHIR_STUB_H_

#include <httplib.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/ehr/fhir_bundles.h"

namespace achilles::testing {

class FhirStub {
 public:
  explicit FhirStub(std::string token) : token_(std::move(token)) {
    server_.Get(R"(/fhir/Patient/([^/]+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (!Authorized(req, res)) return;
                  const std::string pid = req.matches[1];
                  if (pid == "unknown-to-ehr") {
                    res.status = 404;
                    return;
                  }
                  const json bundle = RedFlagBundle(pid);
                  for (const auto& e : bundle["entry"]) {
                    if (e["resource"]["resourceType"] == "Patient") {
                      Send(res, e["resource"]);
                    }
                  }
                });
    server_.Get(R"(/fhir/(Observation|QuestionnaireResponse|Condition))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (!Authorized(req, res)) return;
                  Search(req, res);
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FhirStub() {
    server_.stop();
    thread_.join();
  }

  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/fhir";
  }
  std::vector<std::string> served() {
    std::lock_guard<std::mutex> l(mu_);
    return served_;
  }

 private:
  bool Authorized(const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> l(mu_);
      served_.push_back(req.path + (req.params.empty() ? "" : "?"));
    }
    if (req.get_header_value("Authorization") != "Bearer " + token_) {
      res.status = 401;
      return false;
    }
    return true;
  }

  static void Send(httplib::Response& res, const json& j) {
    res.set_content(j.dump(), "application/fhir+json");
  }

  void Search(const httplib::Request& req, httplib::Response& res) {
    const std::string type = req.matches[1];
    const std::string pid = req.get_param_value("patient");
    const int page =
        req.has_param("page") ? std::stoi(req.get_param_value("page")) : 0;
    json all = json::array();
    const json timeline = RedFlagBundle(pid);
    for (const auto& e : timeline["entry"]) {
      if (e["resource"]["resourceType"] == type) all.push_back(e);
    }
    constexpr int kPage = 5;
    json bundle = {{"resourceType", "Bundle"},
                   {"type", "searchset"},
                   {"entry", json::array()}};
    for (int i = page * kPage;
         i < static_cast<int>(all.size()) && i < (page + 1) * kPage; ++i) {
      bundle["entry"].push_back(all[i]);
    }
    if ((page + 1) * kPage < static_cast<int>(all.size())) {
      bundle["link"] =
          json::array({{{"relation", "next"},
                        {"url", base_url() + "/" + type + "?patient=" + pid +
                                    "&page=" + std::to_string(page + 1)}}});
    }
    Send(res, bundle);
  }

  const std::string token_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> served_;
};

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_EHR_FHIR_STUB_H_
