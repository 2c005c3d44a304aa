// CDS Hooks 2.0: discovery, the patient-view service and feedback.
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/ehr/internal/cards.h"
#include "services/ehr/internal/fhir_fetch.h"
#include "services/ehr/internal/json_util.h"
#include "services/ehr/internal/routes.h"
#include "services/validation/requests.h"
#include "services/validation/validation.h"

namespace achilles::ehr_internal {
namespace {

constexpr char kPatientView[] = "achilles-patient-view";
constexpr char kCardPrefix[] = "cds-card/";

OJson Prefetch() {
  OJson p;
  p["patient"] = "Patient/{{context.patientId}}";
  p["observations"] = "Observation?patient={{context.patientId}}";
  p["questionnaires"] = "QuestionnaireResponse?patient={{context.patientId}}";
  p["conditions"] = "Condition?patient={{context.patientId}}";
  return p;
}

std::string Discovery() {
  OJson service;
  service["hook"] = "patient-view";
  service["id"] = kPatientView;
  service["title"] = "Achilles tendinopathy advice";
  service["description"] =
      "Red flags, load and exercise advice from the patient's pain, "
      "stiffness, runs and exercise sessions, with the rationale.";
  service["prefetch"] = Prefetch();
  service["usageRequirements"] =
      "Prefetch FHIR R4 resources as in docs/FHIR_MAPPING.md; sign each "
      "request with a JWT from a trusted issuer.";
  OJson body;
  body["services"] = OJson::array({service});
  return Dump(body, 2);
}

absl::Status Bad(const std::string& field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

struct HookRequest {
  std::string patient_id;
  const Json* prefetch = nullptr;         // Null when absent or JSON null.
  std::optional<FhirServer> fhir_server;  // fhirServer and its token.
};

// fhirServer and fhirAuthorization (CDS Hooks 2.0), checked for shape
// only; whether the service may fetch from it is decided when it must.
absl::StatusOr<std::optional<FhirServer>> ReadFhirServer(const Json& body) {
  const Json* url = Member(body, "fhirServer");
  const Json* auth = Member(body, "fhirAuthorization");
  if (url == nullptr || url->is_null()) {
    if (auth != nullptr && !auth->is_null()) {
      return Bad("fhirServer", "required with fhirAuthorization");
    }
    return std::nullopt;
  }
  if (!url->is_string()) return Bad("fhirServer", "must be a URL string");
  FhirServer server;
  server.base_url = url->get<std::string>();
  while (!server.base_url.empty() && server.base_url.back() == '/') {
    server.base_url.pop_back();
  }
  if (auth != nullptr && !auth->is_null()) {
    if (!auth->is_object())
      return Bad("fhirAuthorization", "must be an object");
    std::string type = StringMember(*auth, "token_type").value_or("");
    if (!absl::EqualsIgnoreCase(type, "Bearer")) {
      return Bad("fhirAuthorization.token_type", "must be Bearer");
    }
    server.access_token = StringMember(*auth, "access_token").value_or("");
    if (server.access_token.empty() || server.access_token.size() > 8192) {
      return Bad("fhirAuthorization.access_token", "required (1-8192 chars)");
    }
  }
  return server;
}

absl::StatusOr<HookRequest> ReadHookRequest(const Json& body) {
  if (!body.is_object()) return Bad("body", "not a JSON object");
  if (StringMember(body, "hook").value_or("") != "patient-view") {
    return Bad("hook", "must be \"patient-view\" for this service");
  }
  if (StringMember(body, "hookInstance").value_or("").empty()) {
    return Bad("hookInstance", "required (a UUID)");
  }
  const Json* context = Member(body, "context");
  if (context == nullptr || !context->is_object()) {
    return Bad("context", "required object");
  }
  HookRequest r;
  r.patient_id = StringMember(*context, "patientId").value_or("");
  if (r.patient_id.empty()) return Bad("context.patientId", "required");
  ACH_RETURN_IF_ERROR(
      validation::ValidateId("context.patientId", r.patient_id));
  const Json* prefetch = Member(body, "prefetch");
  if (prefetch != nullptr && !prefetch->is_null()) {
    if (!prefetch->is_object()) return Bad("prefetch", "must be an object");
    r.prefetch = prefetch;
  }
  auto server = ReadFhirServer(body);
  if (!server.ok()) return server.status();
  r.fhir_server = *std::move(server);
  return r;
}

// The prefetch values as one collection Bundle for ParseBundle.
std::string PrefetchBundle(const Json& prefetch) {
  Json bundle = {{"resourceType", "Bundle"}, {"type", "collection"}};
  Json entries = Json::array();
  for (auto it = prefetch.begin(); it != prefetch.end(); ++it) {
    if (it.value().is_null()) continue;  // The client found nothing.
    entries.push_back(
        {{"fullUrl", "prefetch." + it.key()}, {"resource", it.value()}});
  }
  bundle["entry"] = entries;
  return Dump(bundle);
}

// Why the service may not fetch from the request's fhirServer, or OK.
absl::Status CheckFetchAllowed(HttpEnv& env, const security::Caller& caller,
                               const FhirServer& server) {
  ACH_RETURN_IF_ERROR(
      CheckFhirServerUrl(server.base_url, env.fhir_fetch.allow_http));
  if (env.trust == nullptr ||
      !env.trust->AllowsFhirServer(caller, server.base_url)) {
    return absl::PermissionDeniedError(
        "fhirServer: not a FHIR server the trust file lists for this issuer "
        "(fhir_servers)");
  }
  return absl::OkStatus();
}

// The request's prefetch, with each template it lacks fetched from its
// fhirServer when the service may (docs/EHR.md). A resource the server
// does not have counts as null, as a client's own prefetch would say.
absl::StatusOr<Json> CompletePrefetch(HttpEnv& env,
                                      const security::Caller& caller,
                                      const HookRequest& hook) {
  Json prefetch = hook.prefetch ? *hook.prefetch : Json::object();
  if (!hook.fhir_server) return prefetch;
  const OJson templates = Prefetch();
  bool lacking = false;
  for (auto it = templates.begin(); it != templates.end(); ++it) {
    lacking = lacking || !prefetch.contains(it.key());
  }
  if (!lacking) return prefetch;
  if (auto st = CheckFetchAllowed(env, caller, *hook.fhir_server); !st.ok()) {
    return PreconditionFailed(
        absl::StrCat("prefetch: incomplete, and the service may not fetch it: ",
                     st.message()));
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(env.fhir_fetch.timeout_seconds);
  for (auto it = templates.begin(); it != templates.end(); ++it) {
    if (prefetch.contains(it.key())) continue;
    const std::string query =
        absl::StrReplaceAll(it.value().get<std::string>(),
                            {{"{{context.patientId}}", hook.patient_id}});
    auto got = FetchFhir(*hook.fhir_server, query, env.fhir_fetch, deadline);
    if (absl::IsNotFound(got.status())) {
      prefetch[it.key()] = nullptr;
    } else if (!got.ok()) {
      return PreconditionFailed(
          absl::StrCat("prefetch.", it.key(),
                       ": could not be fetched: ", got.status().message()));
    } else {
      prefetch[it.key()] = *std::move(got);
    }
  }
  return prefetch;
}

absl::Status ImportPrefetch(HttpEnv& env, const security::Caller& caller,
                            const HookRequest& hook) {
  const std::string& clinic = caller.clinic;
  const bool known =
      env.backend->store->GetPatient(clinic, hook.patient_id).ok();
  auto prefetch = CompletePrefetch(env, caller, hook);
  if (!prefetch.ok()) return prefetch.status();
  if (prefetch->empty()) {
    if (known) return absl::OkStatus();
    return PreconditionFailed(
        "prefetch: missing and no fhirServer to fetch from; send the "
        "prefetch templates of /cds-services, or fhirServer");
  }
  auto parsed = ehr::ParseBundle(PrefetchBundle(*prefetch), hook.patient_id);
  if (!parsed.ok()) return parsed.status();
  auto stored = StoreBundle(env, clinic, *parsed);
  return stored.status();
}

std::string CardUuid(HttpEnv& env, const std::string& clinic,
                     const v1::Evaluation& ev, const std::string& rec_id) {
  const std::string h = env.backend->secret->Hmac(
      absl::StrCat("cds-card", std::string(1, '\0'), clinic,
                   std::string(1, '\0'), ev.patient_id(), std::string(1, '\0'),
                   ev.evaluation_id(), std::string(1, '\0'), rec_id));
  // A version-8 (custom) UUID from the first 128 bits of the keyed hash.
  std::string u = h.substr(0, 32);
  u[12] = '8';
  u[16] = "89ab"[std::stoi(u.substr(16, 1), nullptr, 16) & 3];
  return absl::StrCat(u.substr(0, 8), "-", u.substr(8, 4), "-", u.substr(12, 4),
                      "-", u.substr(16, 4), "-", u.substr(20, 12));
}

absl::StatusOr<OJson> Cards(HttpEnv& env, const std::string& clinic,
                            const v1::Evaluation& ev) {
  CardLinks links;
  links.rules_url = env.public_url + "/reference/rules";
  links.report_url = ReportLink(env, clinic, ev.patient_id());
  absl::Status stored;
  links.uuid_for = [&](const std::string& rec_id) {
    const std::string uuid = CardUuid(env, clinic, ev, rec_id);
    v1::RecordFeedbackRequest card;
    card.set_patient_id(ev.patient_id());
    card.set_evaluation_id(ev.evaluation_id());
    card.set_recommendation_id(rec_id);
    // Owned by the patient: read back by the uuid alone, erased with them.
    auto st = env.backend->store->PutPatientOwnedRecord(
        clinic, ev.patient_id(), kCardPrefix + uuid, card.SerializeAsString());
    if (stored.ok()) stored = st;
    return uuid;
  };
  OJson cards = CardsFor(ev, links);
  if (!stored.ok()) return stored;
  return cards;
}

absl::Status PatientView(HttpEnv& env, const httplib::Request& req,
                         httplib::Response& res, const security::Caller& caller,
                         std::string* patient_id) {
  const Json request = ParseJson(req.body);  // HookRequest points into it.
  auto hook = ReadHookRequest(request);
  if (!hook.ok()) return hook.status();
  *patient_id = hook->patient_id;
  ACH_RETURN_IF_ERROR(ImportPrefetch(env, caller, *hook));
  caseload::InteractiveGate::Pass in_flight(&env.backend->interactive_gate);
  auto ev = env.backend->engine->Evaluate(caller.clinic, hook->patient_id,
                                          engine::EvaluateOptions{});
  if (!ev.ok()) return ev.status();
  auto cards = Cards(env, caller.clinic, *ev);
  if (!cards.ok()) return cards.status();
  OJson body;
  body["cards"] = *std::move(cards);
  SendJson(res, 200, Dump(body));
  return absl::OkStatus();
}

absl::StatusOr<v1::RecordFeedbackRequest> ReadFeedback(
    HttpEnv& env, const std::string& clinic, const Json& f,
    const std::string& field, const security::Caller& caller) {
  const std::string card = StringMember(f, "card").value_or("");
  if (card.empty()) return Bad(field + ".card", "required");
  auto stored = env.backend->store->GetRecord(clinic, kCardPrefix + card);
  if (!stored.ok()) {
    return absl::NotFoundError(
        absl::StrCat(field, ".card: no card with this uuid was issued"));
  }
  v1::RecordFeedbackRequest r;
  r.ParseFromString(*stored);
  const std::string outcome = StringMember(f, "outcome").value_or("");
  if (outcome == "accepted") {
    r.set_decision(v1::FEEDBACK_DECISION_ACCEPTED);
  } else if (outcome == "overridden") {
    r.set_decision(v1::FEEDBACK_DECISION_OVERRIDDEN);
    const Json* why = Member(f, "overrideReason");
    const Json* reason = why ? Member(*why, "reason") : nullptr;
    const std::string code =
        reason ? StringMember(*reason, "code").value_or("") : "";
    const std::string comment =
        why ? StringMember(*why, "userComment").value_or("") : "";
    if (code.empty() && comment.empty()) {
      return Bad(field + ".overrideReason",
                 "required when overridden (reason.code or userComment)");
    }
    r.set_reason(comment.empty() ? code : absl::StrCat(code, ": ", comment));
  } else {
    return Bad(field + ".outcome", "must be accepted or overridden");
  }
  r.set_clinician(caller.subject.substr(0, 128));
  ACH_RETURN_IF_ERROR(validation::ValidateRequest(r));
  return r;
}

absl::Status Feedback(HttpEnv& env, const httplib::Request& req,
                      httplib::Response& res, const security::Caller& caller,
                      std::string* patient_id) {
  Json body = ParseJson(req.body);
  const Json* list = Member(body, "feedback");
  if (list == nullptr || !list->is_array() || list->empty()) {
    return Bad("feedback", "a non-empty array of Feedback");
  }
  std::vector<v1::RecordFeedbackRequest> records;
  for (size_t i = 0; i < list->size() && i < 100; ++i) {
    auto r = ReadFeedback(env, caller.clinic, (*list)[i],
                          absl::StrCat("feedback[", i, "]"), caller);
    if (!r.ok()) return r.status();
    *patient_id = r->patient_id();
    records.push_back(*std::move(r));
  }
  OJson ids = OJson::array();
  for (const auto& r : records) {
    auto id = env.backend->store->PutFeedback(caller.clinic, r.patient_id(),
                                              r.evaluation_id(),
                                              r.SerializeAsString());
    if (!id.ok()) return id.status();
    ids.push_back(*id);
  }
  SendJson(res, 200, Dump(OJson{{"feedback_ids", ids}}));
  return absl::OkStatus();
}

}  // namespace

const security::MethodPolicy& PatientViewPolicy() {
  static const security::MethodPolicy p{
      "ehr/cds-services/achilles-patient-view", security::Bit(v1::ROLE_EHR),
      true, true};
  return p;
}

const security::MethodPolicy& FeedbackPolicy() {
  static const security::MethodPolicy p{
      "ehr/cds-services/feedback",
      security::Bit(v1::ROLE_EHR) | security::Bit(v1::ROLE_CLINICIAN), true,
      true};
  return p;
}

void AddCdsRoutes(httplib::Server& server, HttpEnv& env) {
  // Discovery names services only, no patient data: served without a
  // token, as CDS clients expect to read it before they have one.
  server.Get("/cds-services",
             [](const httplib::Request&, httplib::Response& res) {
               AddCors(res);
               SendJson(res, 200, Discovery());
             });
  server.Post(R"(/cds-services/([^/]+))",
              [&env](const httplib::Request& req, httplib::Response& res) {
                if (req.matches[1] != kPatientView) {
                  AddCors(res);
                  SendError(res, absl::NotFoundError(absl::StrCat(
                                     "no CDS service '", req.matches[1].str(),
                                     "'; GET /cds-services lists them")));
                  return;
                }
                Serve(env, req, res, PatientViewPolicy(),
                      [&](const security::Caller& c, std::string* pid) {
                        return PatientView(env, req, res, c, pid);
                      });
              });
  server.Post(R"(/cds-services/([^/]+)/feedback)",
              [&env](const httplib::Request& req, httplib::Response& res) {
                if (req.matches[1] != kPatientView) {
                  AddCors(res);
                  SendError(res, absl::NotFoundError("no such CDS service"));
                  return;
                }
                Serve(env, req, res, FeedbackPolicy(),
                      [&](const security::Caller& c, std::string* pid) {
                        return Feedback(env, req, res, c, pid);
                      });
              });
}

}  // namespace achilles::ehr_internal
