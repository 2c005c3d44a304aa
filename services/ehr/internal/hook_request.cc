#include "services/ehr/internal/hook_request.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status_macros.h"
#include "services/ehr/ehr.h"
#include "services/ehr/internal/routes.h"
#include "services/validation/validation.h"

namespace achilles::ehr_internal {
namespace {

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
// does not have counts as null, as a client's own prefetch would say. A
// fhirServer the service may not use is ignored, as if absent (many EHRs
// always send one); `*not_used` says why.
absl::StatusOr<Json> CompletePrefetch(HttpEnv& env,
                                      const security::Caller& caller,
                                      const HookRequest& hook,
                                      std::string* not_used) {
  Json prefetch = hook.prefetch ? *hook.prefetch : Json::object();
  if (!hook.fhir_server) return prefetch;
  const OJson templates = Prefetch();
  bool lacking = false;
  for (auto it = templates.begin(); it != templates.end(); ++it) {
    lacking = lacking || !prefetch.contains(it.key());
  }
  if (!lacking) return prefetch;
  if (auto st = CheckFetchAllowed(env, caller, *hook.fhir_server); !st.ok()) {
    *not_used = std::string(st.message());
    return prefetch;
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

}  // namespace

OJson Prefetch() {
  OJson p;
  p["patient"] = "Patient/{{context.patientId}}";
  p["observations"] = "Observation?patient={{context.patientId}}";
  p["questionnaires"] = "QuestionnaireResponse?patient={{context.patientId}}";
  p["conditions"] = "Condition?patient={{context.patientId}}";
  return p;
}

absl::Status Bad(const std::string& field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::StatusOr<HookRequest> ReadHookRequest(const Json& body,
                                            const std::string& hook) {
  if (!body.is_object()) return Bad("body", "not a JSON object");
  if (StringMember(body, "hook").value_or("") != hook) {
    return Bad("hook", absl::StrCat("must be \"", hook, "\" for this service"));
  }
  if (StringMember(body, "hookInstance").value_or("").empty()) {
    return Bad("hookInstance", "required (a UUID)");
  }
  const Json* context = Member(body, "context");
  if (context == nullptr || !context->is_object()) {
    return Bad("context", "required object");
  }
  HookRequest r;
  r.context = context;
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

absl::Status ImportPrefetch(HttpEnv& env, const security::Caller& caller,
                            const HookRequest& hook) {
  const std::string& clinic = caller.clinic;
  const bool known =
      env.backend->store->GetPatient(clinic, hook.patient_id).ok();
  std::string not_used;
  auto prefetch = CompletePrefetch(env, caller, hook, &not_used);
  if (!prefetch.ok()) return prefetch.status();
  if (prefetch->empty()) {
    if (known) return absl::OkStatus();
    if (!not_used.empty()) {
      return PreconditionFailed(absl::StrCat(
          "prefetch: missing, and the service may not fetch it: ", not_used));
    }
    return PreconditionFailed(
        "prefetch: missing and no fhirServer to fetch from; send the "
        "prefetch templates of /cds-services, or fhirServer");
  }
  auto parsed = ehr::ParseBundle(PrefetchBundle(*prefetch), hook.patient_id);
  if (!parsed.ok()) return parsed.status();
  auto stored = StoreBundle(env, clinic, *parsed);
  return stored.status();
}

}  // namespace achilles::ehr_internal
