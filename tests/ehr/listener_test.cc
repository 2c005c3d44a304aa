// The EHR listener end to end: a real achilles-server process with TLS on
// loopback, called over HTTPS as an EHR would (signed CDS Hooks JWTs, FHIR
// prefetch), plus a Node.js CDS client and headless chromium on the report.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "achilles/v1/patient_service.grpc.pb.h"
#include "achilles/v1/security_service.grpc.pb.h"
#include "tests/common/server_process.h"
#include "tests/common/store_scan.h"
#include "tests/common/temp_dir.h"
#include "tests/ehr/ehr_client.h"
#include "tests/ehr/fhir_bundles.h"
#include "tests/ehr/fhir_stub.h"
#include "tests/integration/tokens.h"

namespace achilles::testing {
namespace {

const std::string kTestdata = TESTDATA_DIR;

class EhrListenerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    int st = 0;
    for (const char* k : {"ehr", "rogue", "clin"}) {
      const std::string key = dir_->Sub(std::string(k) + ".key.pem");
      RunCommand(
          "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " +
              key + " && openssl pkey -in " + key + " -pubout -out " +
              dir_->Sub(std::string(k) + ".pub.pem"),
          &st);
      ASSERT_EQ(st, 0);
    }
    // An ES384 key published as a JWKS (converted by node, as an EHR's
    // key endpoint would publish it).
    RunCommand(
        "openssl genpkey -algorithm EC -pkeyopt "
        "ec_paramgen_curve:P-384 -out " +
            dir_->Sub("es.key.pem") +
            " && node -e \"const c=require('crypto'),f=require('fs');"
            "const k=c.createPublicKey(f.readFileSync(process.argv[1]))"
            ".export({format:'jwk'});k.kid='es1';"
            "f.writeFileSync(process.argv[2],JSON.stringify({keys:[k]}))"
            "\" " +
            dir_->Sub("es.key.pem") + " " + dir_->Sub("jwks.json"),
        &st);
    ASSERT_EQ(st, 0);
    fhir_ = new FhirStub("ehr-access-token");
    std::ofstream(dir_->Sub("trust.json")) << R"({"issuers": [
      {"iss": "https://jwks.test", "clinic": "c1", "roles": ["ehr"],
       "jwks_file": "jwks.json"},
      {"iss": "https://ehr.test", "clinic": "c1", "roles": ["ehr"],
       "fhir_servers": [")" + fhir_->base_url() + R"("],
       "keys": [{"kid": "k1", "pem_file": "ehr.pub.pem"}]},
      {"iss": "https://clin.test", "clinic": "c1", "roles": ["clinician"],
       "keys": [{"pem_file": "clin.pub.pem"}]}]})";
    server_ = new ServerProcess(
        dir_->Sub("data"), dir_->Sub("port"),
        {"--tls_cert_file=" + kTestdata + "/server.pem",
         "--tls_key_file=" + kTestdata + "/server.key",
         "--ehr_listen=127.0.0.1:0",
         "--ehr_trust_file=" + dir_->Sub("trust.json"),
         "--ehr_port_file=" + dir_->Sub("ehr_port"), "--ehr_max_body_kb=256",
         "--ehr_outbound_allow_http"});
    ASSERT_GT(server_->WaitForPort(), 0);
    for (int i = 0; i < 100 && ehr_port_ == 0; ++i) {
      std::ifstream(dir_->Sub("ehr_port")) >> ehr_port_;
      if (ehr_port_ == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_GT(ehr_port_, 0);
    base_ = "https://127.0.0.1:" + std::to_string(ehr_port_);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete fhir_;
    delete dir_;
  }

  std::unique_ptr<httplib::SSLClient> Client() {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", ehr_port_);
    c->set_ca_cert_path((kTestdata + "/ca.pem").c_str());
    c->enable_server_certificate_verification(true);
    c->set_read_timeout(30, 0);
    return c;
  }

  std::string Jwt(const std::string& path, JwtClaims c = {},
                  const std::string& key = "ehr") {
    if (c.aud.empty()) c.aud = base_ + path;
    return SignJwt(c, ReadAll(dir_->Sub(key + ".key.pem")));
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& bearer) {
    httplib::Headers h;
    if (!bearer.empty()) h.emplace("Authorization", "Bearer " + bearer);
    return Client()->Post(path.c_str(), h, body, "application/json");
  }

  static json HookBody(const std::string& pid, const json* bundle) {
    json body = {
        {"hook", "patient-view"},
        {"hookInstance", "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"},
        {"context", {{"userId", "Practitioner/1"}, {"patientId", pid}}}};
    if (bundle != nullptr) {
      json obs = {{"resourceType", "Bundle"},
                  {"type", "searchset"},
                  {"entry", json::array()}};
      json prefetch;
      for (const auto& e : (*bundle)["entry"]) {
        if (e["resource"]["resourceType"] == "Patient") {
          prefetch["patient"] = e["resource"];
        } else {
          obs["entry"].push_back(e);
        }
      }
      prefetch["observations"] = obs;
      prefetch["conditions"] = nullptr;  // The EHR found none: allowed.
      body["prefetch"] = prefetch;
    }
    return body;
  }

  json PatientView(const std::string& pid, const json* bundle, int want = 200) {
    const std::string path = "/cds-services/achilles-patient-view";
    auto res = Post(path, HookBody(pid, bundle).dump(), Jwt(path));
    EXPECT_TRUE(res) << "no response";
    if (!res) return json();
    EXPECT_EQ(res->status, want) << res->body;
    return json::parse(res->body, nullptr, false);
  }

  static std::shared_ptr<grpc::Channel> Channel() {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadAll(kTestdata + "/ca.pem");
    return grpc::CreateChannel("localhost:" + std::to_string(server_->port()),
                               grpc::SslCredentials(tls));
  }

  // An achilles bearer token for clinic c1 (EHR, clinician, admin).
  std::string ClinicToken() {
    return IssueClinicToken(Channel(), ReadOperatorToken(dir_->Sub("data")),
                            "c1");
  }

  // Erases the patient through the gRPC API, as a clinic would.
  void ErasePatient(const std::string& pid) {
    auto stub = v1::PatientService::NewStub(Channel());
    grpc::ClientContext ctx;
    Authorize(&ctx, ClinicToken());
    v1::DeletePatientRequest req;
    req.set_patient_id(pid);
    v1::DeletePatientResponse resp;
    auto st = stub->DeletePatient(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  static TempDir* dir_;
  static FhirStub* fhir_;
  static ServerProcess* server_;
  static int ehr_port_;
  static std::string base_;
};

TempDir* EhrListenerTest::dir_ = nullptr;
FhirStub* EhrListenerTest::fhir_ = nullptr;
ServerProcess* EhrListenerTest::server_ = nullptr;
int EhrListenerTest::ehr_port_ = 0;
std::string EhrListenerTest::base_;

const json* CardWithRule(const json& cards, const std::string& rule) {
  for (const auto& c : cards) {
    const std::string url = c["source"]["url"];
    if (url.size() >= rule.size() + 1 &&
        url.compare(url.size() - rule.size() - 1, std::string::npos,
                    "#" + rule) == 0) {
      return &c;
    }
  }
  return nullptr;
}

TEST_F(EhrListenerTest, DiscoveryListsPatientViewWithPrefetch) {
  auto res = Client()->Get("/cds-services");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*");
  json body = json::parse(res->body);
  ASSERT_EQ(body["services"].size(), 2u);
  EXPECT_EQ(body["services"][1]["hook"], "order-sign");
  EXPECT_EQ(body["services"][1]["id"], "achilles-order-sign");
  EXPECT_EQ(body["services"][1]["prefetch"], body["services"][0]["prefetch"]);
  const json& s = body["services"][0];
  EXPECT_EQ(s["hook"], "patient-view");
  EXPECT_EQ(s["id"], "achilles-patient-view");
  EXPECT_FALSE(s["description"].get<std::string>().empty());
  EXPECT_EQ(s["prefetch"]["patient"], "Patient/{{context.patientId}}");
  EXPECT_TRUE(s["prefetch"].contains("observations"));
}

TEST_F(EhrListenerTest, PreflightAnswersCors) {
  auto res = Client()->Options("/cds-services/achilles-patient-view");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_NE(res->get_header_value("Access-Control-Allow-Headers")
                .find("Authorization"),
            std::string::npos);
}

TEST_F(EhrListenerTest, RedFlagTimelineGivesASafetyCard) {
  json bundle = RedFlagBundle("rf-1");
  json body = PatientView("rf-1", &bundle);
  const json* card = CardWithRule(body["cards"], "RF-5");
  ASSERT_NE(card, nullptr) << body.dump(1);
  std::printf("CARD %s\n", card->dump(1).c_str());
  EXPECT_EQ((*card)["indicator"], "warning");
  EXPECT_LT((*card)["summary"].get<std::string>().size(), 140u);
  const std::string detail = (*card)["detail"];
  EXPECT_NE(detail.find("Rule RF-5"), std::string::npos) << detail;
  EXPECT_NE(detail.find("Observed"), std::string::npos);
  EXPECT_EQ((*card)["source"]["label"], "achilles-cds safety screen");
  EXPECT_FALSE((*card)["overrideReasons"].empty());
  EXPECT_NE(
      (*card)["links"][0]["url"].get<std::string>().find("/report/rf-1?t="),
      std::string::npos);
  // The cited rule's reference is served.
  auto ref = Client()->Get("/reference/rules");
  ASSERT_TRUE(ref);
  EXPECT_NE(ref->body.find("id=\"RF-5\""), std::string::npos);
}

TEST_F(EhrListenerTest, OrdinaryTimelineGivesNoRedFlag) {
  json bundle = OrdinaryBundle("ord-1");
  json body = PatientView("ord-1", &bundle);
  ASSERT_TRUE(body["cards"].is_array());
  EXPECT_FALSE(body["cards"].empty());
  for (const auto& c : body["cards"]) {
    EXPECT_EQ(c["source"]["url"].get<std::string>().find("#RF-"),
              std::string::npos)
        << c.dump(1);
  }
  // A second call with the same prefetch stores nothing twice: the same
  // advice (a new evaluation, as of the new call, so new card uuids).
  json again = PatientView("ord-1", &bundle);
  ASSERT_EQ(again["cards"].size(), body["cards"].size());
  for (size_t i = 0; i < body["cards"].size(); ++i) {
    EXPECT_EQ(again["cards"][i]["summary"], body["cards"][i]["summary"]);
  }
}

TEST_F(EhrListenerTest, FeedbackRoundTrip) {
  json bundle = RedFlagBundle("fb-1");
  json cards = PatientView("fb-1", &bundle)["cards"];
  ASSERT_FALSE(cards.empty());
  const std::string path = "/cds-services/achilles-patient-view/feedback";
  auto send = [&](json f) {
    return Post(path, json{{"feedback", json::array({f})}}.dump(), Jwt(path));
  };
  auto ok = send({{"card", cards[0]["uuid"]},
                  {"outcome", "accepted"},
                  {"outcomeTimestamp", DaysAgo(0)}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(json::parse(ok->body)["feedback_ids"].size(), 1u);
  auto overridden = send({{"card", cards[0]["uuid"]},
                          {"outcome", "overridden"},
                          {"overrideReason",
                           {{"reason", cards[0]["overrideReasons"][0]},
                            {"userComment", "seen in clinic today"}}}});
  ASSERT_TRUE(overridden);
  EXPECT_EQ(overridden->status, 200) << overridden->body;
  auto no_reason =
      send({{"card", cards[0]["uuid"]}, {"outcome", "overridden"}});
  ASSERT_TRUE(no_reason);
  EXPECT_EQ(no_reason->status, 400);
  EXPECT_NE(no_reason->body.find("feedback[0].overrideReason"),
            std::string::npos);
  auto unknown = send({{"card", "00000000-0000-8000-8000-000000000000"},
                       {"outcome", "accepted"}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404) << unknown->body;
}

json DraftOrder(const std::string& id, const std::string& pid,
                const std::string& code, const std::string& text) {
  return {
      {"resource",
       {{"resourceType", "ServiceRequest"},
        {"id", id},
        {"status", "draft"},
        {"intent", "order"},
        {"subject", {{"reference", "Patient/" + pid}}},
        {"code",
         {{"coding", json::array({{{"system", "urn:achilles-cds:fhir:order"},
                                   {"code", code}}})},
          {"text", text}}}}}};
}

// order-sign: a running order for a patient whose latest run took 60 h to
// settle (RF-5 stops running) gets a card naming the rule; the calf
// loading order and an order we have no code for get none; feedback on the
// card works. The same orders for an ordinary timeline get no card.
TEST_F(EhrListenerTest, OrderSignFlagsARunningOrderARedFlagBlocks) {
  const std::string path = "/cds-services/achilles-order-sign";
  auto call = [&](const std::string& pid, const json& bundle) {
    json body = HookBody(pid, &bundle);
    body["hook"] = "order-sign";
    body["context"]["draftOrders"] = {
        {"resourceType", "Bundle"},
        {"type", "collection"},
        {"entry",
         json::array({DraftOrder("run1", pid, "running",
                                 "Easy running 3 x 20 min per week"),
                      DraftOrder("calf1", pid, "calf-loading",
                                 "Seated calf raises 3 x 15"),
                      DraftOrder("x1", pid, "imaging", "Ultrasound")})}};
    return Post(path, body.dump(), Jwt(path));
  };
  auto flagged = call("os-1", RedFlagBundle("os-1"));
  ASSERT_TRUE(flagged);
  ASSERT_EQ(flagged->status, 200) << flagged->body;
  json cards = json::parse(flagged->body)["cards"];
  ASSERT_EQ(cards.size(), 1u) << cards.dump(1);
  std::printf("ORDER-SIGN CARD %s\n", cards[0].dump(1).c_str());
  const std::string summary = cards[0]["summary"];
  EXPECT_NE(summary.find("RF-5"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Easy running"), std::string::npos) << summary;
  EXPECT_LT(summary.size(), 140u);
  EXPECT_NE(cards[0]["detail"].get<std::string>().find("ServiceRequest/run1"),
            std::string::npos);
  EXPECT_NE(cards[0]["indicator"], "info");
  const std::string fb = path + "/feedback";
  auto feedback = Post(
      fb,
      json{{"feedback", json::array({{{"card", cards[0]["uuid"]},
                                      {"outcome", "overridden"},
                                      {"overrideReason",
                                       {{"userComment", "seen today"}}}}})}}
          .dump(),
      Jwt(fb));
  ASSERT_TRUE(feedback);
  EXPECT_EQ(feedback->status, 200) << feedback->body;

  auto ordinary = call("os-2", OrdinaryBundle("os-2"));
  ASSERT_TRUE(ordinary);
  ASSERT_EQ(ordinary->status, 200) << ordinary->body;
  EXPECT_TRUE(json::parse(ordinary->body)["cards"].empty()) << ordinary->body;

  json no_orders = HookBody("os-2", nullptr);
  no_orders["hook"] = "order-sign";
  auto bad = Post(path, no_orders.dump(), Jwt(path));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("context.draftOrders"), std::string::npos);
}

// The card -> evaluation mapping behind feedback belongs to the patient:
// once the patient is erased, feedback on their card is 404 and nothing in
// the store holds the patient's id any more.
TEST_F(EhrListenerTest, ErasingThePatientErasesTheirCards) {
  const std::string pid = "erase-cards-7q";
  json bundle = RedFlagBundle(pid);
  json cards = PatientView(pid, &bundle)["cards"];
  ASSERT_FALSE(cards.empty());
  const std::string path = "/cds-services/achilles-patient-view/feedback";
  const std::string feedback =
      json{{"feedback", json::array({{{"card", cards[0]["uuid"]},
                                      {"outcome", "accepted"}}})}}
          .dump();
  auto before = Post(path, feedback, Jwt(path));
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200) << before->body;

  ErasePatient(pid);
  auto after = Post(path, feedback, Jwt(path));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 404) << after->body;
  auto left = StoreEntriesContaining(dir_->Sub("data"), pid);
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_TRUE(left->empty())
      << left->size() << " entries, first " << (*left)[0];
}

// No prefetch, but the EHR's FHIR server and a token: the service fetches
// the templates itself (following searchset pages) and answers with cards.
TEST_F(EhrListenerTest, MissingPrefetchIsFetchedFromTheFhirServer) {
  const std::string path = "/cds-services/achilles-patient-view";
  json body = HookBody("fetched-1", nullptr);
  body["fhirServer"] = fhir_->base_url();
  body["fhirAuthorization"] = {{"access_token", "ehr-access-token"},
                               {"token_type", "Bearer"},
                               {"expires_in", 300},
                               {"scope", "patient/*.read"},
                               {"subject", "cds-service"}};
  auto res = Post(path, body.dump(), Jwt(path));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_NE(CardWithRule(json::parse(res->body)["cards"], "RF-5"), nullptr)
      << res->body;
  int observation_pages = 0;
  for (const auto& p : fhir_->served()) {
    observation_pages += p == "/fhir/Observation?";
  }
  EXPECT_GE(observation_pages, 4) << "the searchset's next links followed";

  // A token the FHIR server refuses: the data cannot be had, 412.
  body["context"]["patientId"] = "fetched-2";
  body["fhirAuthorization"]["access_token"] = "wrong";
  auto refused = Post(path, body.dump(), Jwt(path));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 412) << refused->body;
  EXPECT_NE(refused->body.find("HTTP 401"), std::string::npos);

  // A FHIR server the trust file does not list for the issuer: never
  // called (no request forgery through fhirServer).
  body["fhirServer"] = "http://127.0.0.1:1/fhir";
  auto elsewhere = Post(path, body.dump(), Jwt(path));
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(elsewhere->status, 412) << elsewhere->body;
  EXPECT_NE(elsewhere->body.find("fhir_servers"), std::string::npos);

  // fhirAuthorization of another kind is a bad request naming the field.
  body["fhirServer"] = fhir_->base_url();
  body["fhirAuthorization"]["token_type"] = "MAC";
  auto bad = Post(path, body.dump(), Jwt(path));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("fhirAuthorization.token_type"), std::string::npos);
}

TEST_F(EhrListenerTest, AuthenticationFailuresAre401) {
  const std::string path = "/cds-services/achilles-patient-view";
  json bundle = OrdinaryBundle("auth-1");
  const std::string body = HookBody("auth-1", &bundle).dump();
  auto status = [&](const std::string& bearer) {
    auto r = Post(path, body, bearer);
    return r ? r->status : -1;
  };
  EXPECT_EQ(status(""), 401);
  EXPECT_EQ(status("not-a-jwt"), 401);
  EXPECT_EQ(status(Jwt(path, {}, "rogue")), 401) << "signed by another key";
  JwtClaims expired;
  expired.iat = absl::ToUnixSeconds(absl::Now()) - 900;
  EXPECT_EQ(status(Jwt(path, expired)), 401);
  JwtClaims wrong_aud;
  wrong_aud.aud = "https://elsewhere.test/cds-services/x";
  EXPECT_EQ(status(Jwt(path, wrong_aud)), 401);
  JwtClaims unknown_iss;
  unknown_iss.iss = "https://unknown.test";
  EXPECT_EQ(status(Jwt(path, unknown_iss)), 401);
  JwtClaims replay;
  replay.jti = "once-only";
  const std::string token = Jwt(path, replay);
  EXPECT_EQ(status(token), 200);
  EXPECT_EQ(status(token), 401) << "a jti is accepted once";
}

TEST_F(EhrListenerTest, AClinicianIssuerMayNotCallTheHook) {
  const std::string path = "/cds-services/achilles-patient-view";
  JwtClaims c;
  c.iss = "https://clin.test";
  c.kid = "";
  json bundle = OrdinaryBundle("role-1");
  auto r = Post(path, HookBody("role-1", &bundle).dump(), Jwt(path, c, "clin"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->body;
}

TEST_F(EhrListenerTest, BadRequestsNameTheField) {
  const std::string path = "/cds-services/achilles-patient-view";
  auto post = [&](const std::string& body) {
    auto r = Post(path, body, Jwt(path));
    return r ? std::make_pair(r->status, r->body)
             : std::make_pair(-1, std::string());
  };
  auto [s1, b1] = post("{not json");
  EXPECT_EQ(s1, 400);
  EXPECT_NE(b1.find("body"), std::string::npos);
  json no_patient = HookBody("x", nullptr);
  no_patient["context"].erase("patientId");
  auto [s2, b2] = post(no_patient.dump());
  EXPECT_EQ(s2, 400);
  EXPECT_NE(b2.find("context.patientId"), std::string::npos);
  json bad_hook = HookBody("x", nullptr);
  bad_hook["hook"] = "order-sign";
  auto [s3, b3] = post(bad_hook.dump());
  EXPECT_EQ(s3, 400);
  EXPECT_NE(b3.find("hook"), std::string::npos);
  json bad_bundle = OrdinaryBundle("bad-1");
  bad_bundle["entry"][3]["resource"]["component"][3]["valueInteger"] = 12;
  auto [s4, b4] = post(HookBody("bad-1", &bad_bundle).dump());
  EXPECT_EQ(s4, 400);
  EXPECT_NE(b4.find("urn:test:Observation/run18"), std::string::npos) << b4;
  auto [s5, b5] = post(HookBody("never-seen", nullptr).dump());
  EXPECT_EQ(s5, 412) << b5;
  EXPECT_NE(b5.find("prefetch"), std::string::npos);
  auto other = Post("/cds-services/no-such-service", "{}", Jwt(path));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  auto huge = Post(path, std::string(300 * 1024, ' '), Jwt(path));
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
}

TEST_F(EhrListenerTest, FhirImportIsIdempotentAndExportRoundTrips) {
  const std::string token = ClinicToken();
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  const std::string bundle = RedFlagBundle("fhir-1").dump();
  auto first = Client()->Post("/fhir", auth, bundle, "application/fhir+json");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  json r1 = json::parse(first->body);
  EXPECT_EQ(r1["appended"], 23);
  auto second = Client()->Post("/fhir", auth, bundle, "application/fhir+json");
  ASSERT_TRUE(second);
  EXPECT_EQ(json::parse(second->body)["appended"], 0);
  EXPECT_EQ(json::parse(second->body)["duplicates"], 23);

  auto exported = Client()->Get("/fhir/Patient/fhir-1/$everything", auth);
  ASSERT_TRUE(exported);
  ASSERT_EQ(exported->status, 200) << exported->body;
  EXPECT_EQ(exported->get_header_value("X-Achilles-Events-Left-Out"), "0");
  EXPECT_FALSE(exported->has_header("X-Achilles-Events-Left-Out-By-Kind"));
  json out = json::parse(exported->body);
  EXPECT_EQ(out["resourceType"], "Bundle");
  EXPECT_EQ(out["entry"].size(), 24u);  // The patient and 23 events.
  auto back = Client()->Post("/fhir", auth, exported->body, "application/json");
  ASSERT_TRUE(back);
  EXPECT_EQ(json::parse(back->body)["appended"], 0) << back->body;

  // All or nothing: one bad resource refuses the bundle, naming it.
  json bad = OrdinaryBundle("fhir-2");
  bad["entry"][5]["resource"].erase("effectiveDateTime");
  auto refused = Client()->Post("/fhir", auth, bad.dump(), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  json why = json::parse(refused->body);
  ASSERT_EQ(why["errors"].size(), 1u);
  EXPECT_EQ(why["errors"][0]["fullUrl"], bad["entry"][5]["fullUrl"]);
  auto none = Client()->Get("/fhir/Patient/fhir-2/$everything", auth);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404) << "nothing of a refused bundle is stored";
}

TEST_F(EhrListenerTest, ReportLinkServesTheChartAndChromiumRendersIt) {
  json bundle = RedFlagBundle("rep-1");
  json cards = PatientView("rep-1", &bundle)["cards"];
  ASSERT_FALSE(cards.empty());
  const std::string url = cards[0]["links"][0]["url"];
  const std::string path = url.substr(base_.size());
  auto page = Client()->Get(path.c_str());
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_NE(page->body.find("<svg id=\"chart\""), std::string::npos);
  auto no_token = Client()->Get("/report/rep-1");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  auto forged = Client()->Get((path + "x").c_str());
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 401);

  const std::string html = dir_->Sub("report.html");
  std::ofstream(html) << page->body;
  int st = 0;
  const std::string out =
      RunCommand("sh " + std::string(EHR_TEST_DIR) + "/browser_check.sh " +
                     html + " " + dir_->Sub("report.png"),
                 &st);
  EXPECT_EQ(st, 0) << out;
  struct stat png;
  EXPECT_EQ(stat(dir_->Sub("report.png").c_str(), &png), 0);
}

TEST_F(EhrListenerTest, NodeCdsClientRendersCards) {
  const std::string bundle = dir_->Sub("node_bundle.json");
  std::ofstream(bundle) << RedFlagBundle("node-1").dump();
  int st = 0;
  const std::string out = RunCommand(
      "node " + std::string(EHR_TEST_DIR) + "/cds_client.js " + base_ + " " +
          kTestdata + "/ca.pem " + dir_->Sub("ehr.key.pem") + " " + bundle,
      &st);
  EXPECT_EQ(st, 0) << out;
  EXPECT_NE(out.find("service achilles-patient-view (patient-view)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("[WARNING]"), std::string::npos) << out;
  EXPECT_NE(out.find("RF-5"), std::string::npos) << out;
  EXPECT_NE(out.find("service achilles-order-sign (order-sign)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Reconsider this order (rule RF-5): Running"),
            std::string::npos)
      << out;

  // The same client with an ES384 key the server knows from a JWKS.
  const std::string es = RunCommand(
      "CDS_ISS=https://jwks.test CDS_KID=es1 CDS_ALG=ES384 node " +
          std::string(EHR_TEST_DIR) + "/cds_client.js " + base_ + " " +
          kTestdata + "/ca.pem " + dir_->Sub("es.key.pem") + " " + bundle,
      &st);
  EXPECT_EQ(st, 0) << es;
  EXPECT_NE(es.find("RF-5"), std::string::npos) << es;
}

TEST_F(EhrListenerTest, AchillesctlImportsFhirAndWritesTheReport) {
  std::ofstream(dir_->Sub("ctl.token")) << ClinicToken();
  const std::string bundle = dir_->Sub("ctl_bundle.json");
  std::ofstream(bundle) << RedFlagBundle("ctl-1").dump();
  const std::string ctl =
      std::string(CTL_BINARY) +
      " --server=localhost:" + std::to_string(server_->port()) +
      " --tls_ca_file=" + kTestdata +
      "/ca.pem --token_file=" + dir_->Sub("ctl.token") + " ";
  int st = 0;
  std::string out = RunCommand(ctl + "import fhir " + bundle, &st);
  EXPECT_EQ(st, 0) << out;
  EXPECT_NE(out.find("imported 23 new event(s)"), std::string::npos) << out;
  out = RunCommand(ctl + "import fhir " + bundle, &st);
  EXPECT_NE(out.find("imported 0 new event(s), 23 already stored"),
            std::string::npos)
      << out;
  json bad = OrdinaryBundle("ctl-2");
  bad["entry"][3]["resource"]["status"] = "preliminary";
  std::ofstream(dir_->Sub("bad.json")) << bad.dump();
  out = RunCommand(ctl + "import fhir " + dir_->Sub("bad.json"), &st);
  EXPECT_EQ(st, 1);
  EXPECT_NE(out.find("urn:test:Observation/run18: status"), std::string::npos)
      << out;

  // The report file, checked in chromium; the screenshot is kept when
  // EHR_SCREENSHOT names a path.
  const std::string html = dir_->Sub("ctl_report.html");
  out = RunCommand(ctl + "report ctl-1 --html=" + html, &st);
  ASSERT_EQ(st, 0) << out;
  const char* keep = std::getenv("EHR_SCREENSHOT");
  const std::string png = keep != nullptr ? keep : dir_->Sub("ctl_report.png");
  out = RunCommand("sh " + std::string(EHR_TEST_DIR) + "/browser_check.sh " +
                       html + " " + png,
                   &st);
  EXPECT_EQ(st, 0) << out;
  const std::string page = ReadAll(html);
  EXPECT_NE(page.find("RF-5"), std::string::npos);
  EXPECT_NE(page.find("href=\"#ev-fhir:O:run-late:1\""), std::string::npos);

  // A note has no FHIR resource: the export says so, over HTTP and in ctl.
  out = RunCommand(ctl + "events add ctl-1 --id=note-1 --note=seen", &st);
  ASSERT_EQ(st, 0) << out;
  out = RunCommand(ctl + "export fhir ctl-1", &st);
  EXPECT_EQ(st, 0) << out;
  EXPECT_NE(out.find("\"resourceType\": \"Bundle\""), std::string::npos);
  EXPECT_NE(out.find("exported 23 event(s); left out 1 without a FHIR "
                     "mapping (note=1)"),
            std::string::npos)
      << out;
  httplib::Headers auth = {{"Authorization", "Bearer " + ClinicToken()}};
  auto exported = Client()->Get("/fhir/Patient/ctl-1/$everything", auth);
  ASSERT_TRUE(exported);
  EXPECT_EQ(exported->get_header_value("X-Achilles-Events-Left-Out"), "1");
  EXPECT_EQ(exported->get_header_value("X-Achilles-Events-Left-Out-By-Kind"),
            "note=1");
}

TEST(EhrListenerConfigTest, PlaintextOnlyOnLoopbackAndWhenAsked) {
  TempDir dir;
  ServerProcess public_plain(
      dir.Sub("d1"), dir.Sub("p1"),
      {"--ehr_listen=0.0.0.0:0", "--ehr_insecure_plaintext"});
  EXPECT_EQ(public_plain.WaitForPort(), 0);
  EXPECT_NE(public_plain.Wait(), 0);
  ServerProcess unasked(dir.Sub("d2"), dir.Sub("p2"),
                        {"--ehr_listen=127.0.0.1:0"});
  EXPECT_EQ(unasked.WaitForPort(), 0);
  EXPECT_NE(unasked.Wait(), 0);
  ServerProcess asked(dir.Sub("d3"), dir.Sub("p3"),
                      {"--ehr_listen=127.0.0.1:0", "--ehr_insecure_plaintext"});
  EXPECT_GT(asked.WaitForPort(), 0);
}

}  // namespace
}  // namespace achilles::testing
