// CDS Hooks 2.0: discovery, the patient-view and order-sign services and
// feedback.
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/ehr/internal/cards.h"
#include "services/ehr/internal/hook_request.h"
#include "services/ehr/internal/json_util.h"
#include "services/ehr/internal/order_sign.h"
#include "services/ehr/internal/routes.h"
#include "services/validation/requests.h"
#include "services/validation/validation.h"

namespace achilles::ehr_internal {
namespace {

constexpr char kPatientView[] = "achilles-patient-view";
constexpr char kOrderSign[] = "achilles-order-sign";
constexpr char kCardPrefix[] = "cds-card/";

OJson Service(const char* hook, const char* id, const char* title,
              const char* description) {
  OJson service;
  service["hook"] = hook;
  service["id"] = id;
  service["title"] = title;
  service["description"] = description;
  service["prefetch"] = Prefetch();
  service["usageRequirements"] =
      "Prefetch FHIR R4 resources as in docs/FHIR_MAPPING.md (or send "
      "fhirServer); sign each request with a JWT from a trusted issuer.";
  return service;
}

std::string Discovery() {
  OJson body;
  body["services"] = OJson::array(
      {Service("patient-view", kPatientView, "Achilles tendinopathy advice",
               "Red flags, load and exercise advice from the patient's "
               "pain, stiffness, runs and exercise sessions, with the "
               "rationale."),
       Service("order-sign", kOrderSign,
               "Achilles tendinopathy: orders against the advice",
               "Checks draft running and calf-loading orders (codes in "
               "urn:achilles-cds:fhir:order, docs/EHR.md) against the "
               "patient's red flags and the rules that block them.")});
  return Dump(body, 2);
}

std::string CardUuid(HttpEnv& env, const std::string& clinic,
                     const v1::Evaluation& ev, const std::string& rec_id,
                     const std::string& about) {
  const std::string sep(1, '\0');
  const std::string h = env.backend->secret->Hmac(absl::StrCat(
      "cds-card", sep, clinic, sep, ev.patient_id(), sep, ev.evaluation_id(),
      sep, rec_id, about.empty() ? "" : sep + about));
  // A version-8 (custom) UUID from the first 128 bits of the keyed hash.
  std::string u = h.substr(0, 32);
  u[12] = '8';
  u[16] = "89ab"[std::stoi(u.substr(16, 1), nullptr, 16) & 3];
  return absl::StrCat(u.substr(0, 8), "-", u.substr(8, 4), "-", u.substr(12, 4),
                      "-", u.substr(16, 4), "-", u.substr(20, 12));
}

// Card links for `ev`; each card uuid's feedback record is stored owned
// by the patient (read back by the uuid alone, erased with the patient).
// The first store error is left in `*stored`.
CardLinks LinksFor(HttpEnv& env, const std::string& clinic,
                   const v1::Evaluation& ev, absl::Status* stored) {
  CardLinks links;
  links.rules_url = env.public_url + "/reference/rules";
  links.report_url = ReportLink(env, clinic, ev.patient_id());
  links.uuid_for = [&env, clinic, &ev, stored](const std::string& rec_id,
                                               const std::string& about) {
    const std::string uuid = CardUuid(env, clinic, ev, rec_id, about);
    v1::RecordFeedbackRequest card;
    card.set_patient_id(ev.patient_id());
    card.set_evaluation_id(ev.evaluation_id());
    card.set_recommendation_id(rec_id);
    // The call's synced audit entry, written before it is answered, makes
    // the card durable (storage::Durability): one fsync per call, not one
    // per card.
    auto st = env.backend->store->PutPatientOwnedRecord(
        clinic, ev.patient_id(), kCardPrefix + uuid, card.SerializeAsString(),
        storage::Durability::kCoveredByNextSync);
    if (stored->ok()) *stored = st;
    return uuid;
  };
  return links;
}

// The common part of every service: the request read for `hook`, the
// prefetch imported, the patient evaluated.
absl::StatusOr<v1::Evaluation> RunHook(HttpEnv& env,
                                       const security::Caller& caller,
                                       const Json& body,
                                       const std::string& hook_name,
                                       std::string* patient_id) {
  auto hook = ReadHookRequest(body, hook_name);
  if (!hook.ok()) return hook.status();
  *patient_id = hook->patient_id;
  ACH_RETURN_IF_ERROR(ImportPrefetch(env, caller, *hook));
  caseload::InteractiveGate::Pass in_flight(&env.backend->interactive_gate);
  engine::EvaluateOptions options;
  // Covered by the call's synced audit entry, as for gRPC (http_env.h).
  options.durability = storage::Durability::kCoveredByNextSync;
  return env.backend->engine->Evaluate(caller.clinic, hook->patient_id,
                                       options);
}

absl::Status SendCards(httplib::Response& res, OJson cards,
                       const absl::Status& stored) {
  if (!stored.ok()) return stored;
  OJson body;
  body["cards"] = std::move(cards);
  SendJson(res, 200, Dump(body));
  return absl::OkStatus();
}

absl::Status PatientView(HttpEnv& env, const httplib::Request& req,
                         httplib::Response& res, const security::Caller& caller,
                         std::string* patient_id) {
  const Json body = ParseJson(req.body);
  auto ev = RunHook(env, caller, body, "patient-view", patient_id);
  if (!ev.ok()) return ev.status();
  absl::Status stored;
  OJson cards = CardsFor(*ev, LinksFor(env, caller.clinic, *ev, &stored));
  return SendCards(res, std::move(cards), stored);
}

// order-sign: context.draftOrders checked against the evaluation; a card
// per order a rule blocks, none for the rest.
absl::Status OrderSign(HttpEnv& env, const httplib::Request& req,
                       httplib::Response& res, const security::Caller& caller,
                       std::string* patient_id) {
  const Json body = ParseJson(req.body);
  if (!body.is_object()) return Bad("body", "not a JSON object");
  // The draft orders are read first: a bad request changes nothing.
  const Json* context = Member(body, "context");
  const Json* drafts = context ? Member(*context, "draftOrders") : nullptr;
  if (drafts == nullptr) {
    return Bad("context.draftOrders", "required (a FHIR Bundle)");
  }
  auto orders = ReadDraftOrders(*drafts);
  if (!orders.ok()) return orders.status();
  auto ev = RunHook(env, caller, body, "order-sign", patient_id);
  if (!ev.ok()) return ev.status();
  auto timeline = env.backend->store->LoadTimeline(
      caller.clinic, ev->patient_id(), ToMicros(ev->as_of()));
  if (!timeline.ok()) return timeline.status();
  absl::Status stored;
  OJson cards = ConflictCards(*orders, BlocksOf(*ev, *timeline), *ev,
                              LinksFor(env, caller.clinic, *ev, &stored));
  return SendCards(res, std::move(cards), stored);
}

absl::StatusOr<v1::RecordFeedbackRequest> ReadFeedback(
    HttpEnv& env, const std::string& clinic, const Json& f,
    const std::string& field, const security::Caller& caller) {
  const std::string card = StringMember(f, "card").value_or("");
  if (card.empty()) return Bad(field + ".card", "required");
  auto stored = env.backend->store->GetRecord(clinic, kCardPrefix + card);
  if (absl::IsNotFound(stored.status())) {
    return absl::NotFoundError(
        absl::StrCat(field, ".card: no card with this uuid was issued"));
  }
  if (!stored.ok()) return stored.status();  // The store's trouble: 5xx.
  v1::RecordFeedbackRequest r;
  if (!r.ParseFromString(*stored)) {
    return absl::DataLossError(
        absl::StrCat(field, ".card: the stored card record does not parse"));
  }
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

const security::MethodPolicy& OrderSignPolicy() {
  static const security::MethodPolicy p{"ehr/cds-services/achilles-order-sign",
                                        security::Bit(v1::ROLE_EHR), true,
                                        true};
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
  server.Post(R"(/cds-services/([^/]+))", [&env](const httplib::Request& req,
                                                 httplib::Response& res) {
    const std::string id = req.matches[1];
    if (id == kPatientView || id == kOrderSign) {
      const bool view = id == kPatientView;
      Serve(env, req, res, view ? PatientViewPolicy() : OrderSignPolicy(),
            [&](const security::Caller& c, std::string* pid) {
              return view ? PatientView(env, req, res, c, pid)
                          : OrderSign(env, req, res, c, pid);
            });
      return;
    }
    AddCors(res);
    SendError(res,
              absl::NotFoundError(absl::StrCat(
                  "no CDS service '", id, "'; GET /cds-services lists them")));
  });
  server.Post(
      R"(/cds-services/([^/]+)/feedback)",
      [&env](const httplib::Request& req, httplib::Response& res) {
        if (req.matches[1] != kPatientView && req.matches[1] != kOrderSign) {
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
