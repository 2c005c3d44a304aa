// The mapping of docs/FHIR_MAPPING.md, resource by resource.
#include "services/ehr/internal/fhir_resources.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/ehr/internal/fhir_codes.h"
#include "services/ehr/internal/fhir_read.h"

namespace achilles::ehr_internal {
namespace {

absl::Status Bad(const std::string& field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// Sets occurred_at and event_id, common to every event.
absl::Status Stamp(const Json& r, const std::string& type,
                   const char* time_element, v1::Event* e) {
  const std::string id = StringMember(r, "id").value_or("");
  if (id.empty()) return Bad("id", "required (it makes the import idempotent)");
  std::string version = "1";
  if (const Json* meta = Member(r, "meta")) {
    version = StringMember(*meta, "versionId").value_or("1");
  }
  e->set_event_id(EventIdFor(type, id, version));
  auto when = StringMember(r, time_element);
  if (!when) return Bad(time_element, "required (when it happened)");
  auto us = ParseFhirDateTime(time_element, *when);
  if (!us.ok()) return us.status();
  *e->mutable_occurred_at() = FromMicros(*us);
  return absl::OkStatus();
}

template <typename Enum>
absl::Status EnumComponent(const Json& obs, const char* code,
                           const google::protobuf::EnumDescriptor* d,
                           const std::string& prefix, Enum* out) {
  const Json* c = FindComponent(obs, kCodes, code);
  if (c == nullptr) return absl::OkStatus();
  const std::string field = absl::StrCat("component[", code, "]");
  const Json* cc = Member(*c, "valueCodeableConcept");
  auto value = cc ? CodeIn(*cc, kValues) : std::nullopt;
  auto n = value ? EnumFromCode(d, prefix, *value) : std::nullopt;
  if (!n) {
    return Bad(field + ".valueCodeableConcept",
               absl::StrCat("needs a coding from ", kValues,
                            " (docs/FHIR_MAPPING.md)"));
  }
  *out = static_cast<Enum>(*n);
  return absl::OkStatus();
}

// A numeric component; `*out` untouched when absent.
absl::Status NumberComponent(const Json& obs, const char* code, double* out,
                             bool* present) {
  *present = false;
  const Json* c = FindComponent(obs, kCodes, code);
  if (c == nullptr) return absl::OkStatus();
  auto v = NumericValue(absl::StrCat("component[", code, "]"), *c);
  if (!v.ok()) return v.status();
  if (v->has_value()) {
    *out = **v;
    *present = true;
  }
  return absl::OkStatus();
}

// Pain components (pain-during, pain-after, pain-next-morning, pain-before)
// and settle-hours into a LoadResponse.
absl::Status ReadResponse(const Json& obs, v1::LoadResponse* r) {
  struct Slot {
    const char* code;
    void (v1::LoadResponse::*set)(int32_t);
  };
  for (const Slot& s :
       {Slot{"pain-during", &v1::LoadResponse::set_pain_during},
        Slot{"pain-after", &v1::LoadResponse::set_pain_after},
        Slot{"pain-next-morning", &v1::LoadResponse::set_pain_next_morning},
        Slot{"pain-before", &v1::LoadResponse::set_pain_before}}) {
    const Json* c = FindComponent(obs, kCodes, s.code);
    if (c == nullptr) continue;
    auto v = PainValue(absl::StrCat("component[", s.code, "]"), *c);
    if (!v.ok()) return v.status();
    if (v->has_value()) (r->*s.set)(**v);
  }
  for (const char* code : {"eased-with-warmup", "limping"}) {
    const Json* c = FindComponent(obs, kCodes, code);
    if (c == nullptr) continue;
    const Json* b = Member(*c, "valueBoolean");
    if (b == nullptr || !b->is_boolean()) {
      return Bad(absl::StrCat("component[", code, "].valueBoolean"),
                 "missing or not a boolean");
    }
    if (code[0] == 'e') {
      r->set_eased_with_warmup(b->get<bool>());
    } else {
      r->set_limping(b->get<bool>());
    }
  }
  double hours = 0;
  bool present = false;
  ACH_RETURN_IF_ERROR(NumberComponent(obs, "settle-hours", &hours, &present));
  if (present) r->set_settle_time_hours(hours);
  return absl::OkStatus();
}

absl::Status PainObservation(const Json& obs, v1::PainReport* p) {
  auto during = PainValue("value", obs);
  if (!during.ok()) return during.status();
  if (during->has_value()) p->mutable_response()->set_pain_during(**during);
  ACH_RETURN_IF_ERROR(ReadResponse(obs, p->mutable_response()));
  v1::Activity activity = v1::ACTIVITY_UNSPECIFIED;
  ACH_RETURN_IF_ERROR(EnumComponent(obs, "activity", v1::Activity_descriptor(),
                                    "ACTIVITY_", &activity));
  if (activity == v1::ACTIVITY_UNSPECIFIED) {
    return Bad("component[activity]",
               "required: what the patient was doing (e.g. running)");
  }
  p->set_activity(activity);
  return absl::OkStatus();
}

absl::Status StiffnessObservation(const Json& obs, v1::MorningStiffness* m) {
  auto minutes = NumericValue("value", obs);
  if (!minutes.ok()) return minutes.status();
  if (minutes->has_value()) {
    if (**minutes != std::floor(**minutes)) {
      return Bad("valueQuantity.value", "minutes must be whole");
    }
    m->set_minutes(static_cast<int32_t>(**minutes));
  }
  const Json* sev = FindComponent(obs, kCodes, "stiffness-severity");
  if (sev != nullptr) {
    auto v = PainValue("component[stiffness-severity]", *sev);
    if (!v.ok()) return v.status();
    if (v->has_value()) m->set_severity(**v);
  }
  v1::Comparison vs = v1::COMPARISON_UNSPECIFIED;
  ACH_RETURN_IF_ERROR(EnumComponent(
      obs, "vs-baseline", v1::Comparison_descriptor(), "COMPARISON_", &vs));
  m->set_vs_baseline(vs);
  return absl::OkStatus();
}

absl::Status RunObservation(const Json& obs, v1::RunSession* run) {
  double v = 0;
  bool present = false;
  ACH_RETURN_IF_ERROR(NumberComponent(obs, "duration", &v, &present));
  if (!present) return Bad("component[duration]", "required (minutes)");
  run->set_duration_minutes(static_cast<int32_t>(std::lround(v)));
  ACH_RETURN_IF_ERROR(NumberComponent(obs, "distance", &v, &present));
  if (present) run->set_distance_km(v);
  ACH_RETURN_IF_ERROR(NumberComponent(obs, "ladder-level", &v, &present));
  if (present) run->set_ladder_level(static_cast<int32_t>(v));
  ACH_RETURN_IF_ERROR(NumberComponent(obs, "cadence", &v, &present));
  if (present) run->set_cadence_spm(static_cast<int32_t>(v));
  v1::Intensity intensity = v1::INTENSITY_UNSPECIFIED;
  ACH_RETURN_IF_ERROR(EnumComponent(
      obs, "intensity", v1::Intensity_descriptor(), "INTENSITY_", &intensity));
  run->set_intensity(intensity);
  v1::Terrain terrain = v1::TERRAIN_UNSPECIFIED;
  ACH_RETURN_IF_ERROR(EnumComponent(obs, "terrain", v1::Terrain_descriptor(),
                                    "TERRAIN_", &terrain));
  run->set_terrain(terrain);
  return ReadResponse(obs, run->mutable_response());
}

absl::Status ExerciseObservation(const Json& obs, v1::ExerciseSession* ex) {
  v1::Exercise kind = v1::EXERCISE_UNSPECIFIED;
  ACH_RETURN_IF_ERROR(EnumComponent(obs, "exercise", v1::Exercise_descriptor(),
                                    "EXERCISE_", &kind));
  if (kind == v1::EXERCISE_UNSPECIFIED) {
    return Bad("component[exercise]", "required: which exercise");
  }
  ex->set_exercise(kind);
  v1::Programme programme = v1::PROGRAMME_UNSPECIFIED;
  ACH_RETURN_IF_ERROR(EnumComponent(
      obs, "programme", v1::Programme_descriptor(), "PROGRAMME_", &programme));
  ex->set_programme(programme);
  double v = 0;
  bool present = false;
  ACH_RETURN_IF_ERROR(NumberComponent(obs, "sets", &v, &present));
  if (present) ex->set_sets(static_cast<int32_t>(v));
  ACH_RETURN_IF_ERROR(NumberComponent(obs, "reps", &v, &present));
  if (present) ex->set_reps(static_cast<int32_t>(v));
  ACH_RETURN_IF_ERROR(NumberComponent(obs, "load", &v, &present));
  if (present) ex->set_load_kg(v);
  ACH_RETURN_IF_ERROR(NumberComponent(obs, "hold", &v, &present));
  if (present) ex->set_hold_seconds(static_cast<int32_t>(v));
  if (const Json* c = FindComponent(obs, kCodes, "completed")) {
    const Json* b = Member(*c, "valueBoolean");
    if (b == nullptr || !b->is_boolean()) {
      return Bad("component[completed].valueBoolean",
                 "missing or not a boolean");
    }
    ex->set_completed(b->get<bool>());
  }
  return ReadResponse(obs, ex->mutable_response());
}

std::string ObservationKind(const Json& obs) {
  const Json* code = Member(obs, "code");
  if (code == nullptr) return "";
  if (CodeIn(*code, kLoinc).value_or("") == kLoincPainNrs) return "pain";
  return CodeIn(*code, kCodes).value_or("");
}

}  // namespace

std::string EventIdFor(const std::string& type, const std::string& id,
                       const std::string& version) {
  const std::string letter = type.substr(0, 1);
  std::string plain = absl::StrCat("fhir:", letter, ":", id, ":", version);
  if (plain.size() <= 64) return plain;
  return absl::StrCat("fhir:", letter, ":",
                      Sha256Hex(absl::StrCat(id, "\n", version)).substr(0, 40));
}

absl::StatusOr<v1::Event> ObservationToEvent(const Json& r) {
  v1::Event e;
  const std::string status = StringMember(r, "status").value_or("");
  if (status != "final" && status != "amended" && status != "corrected") {
    return Bad("status", "must be final, amended or corrected");
  }
  ACH_RETURN_IF_ERROR(Stamp(r, "Observation", "effectiveDateTime", &e));
  const std::string kind = ObservationKind(r);
  if (kind == "pain") {
    ACH_RETURN_IF_ERROR(PainObservation(r, e.mutable_pain_report()));
  } else if (kind == kMorningStiffness) {
    ACH_RETURN_IF_ERROR(StiffnessObservation(r, e.mutable_morning_stiffness()));
  } else if (kind == kRunSession) {
    ACH_RETURN_IF_ERROR(RunObservation(r, e.mutable_run_session()));
  } else if (kind == kExerciseSession) {
    ACH_RETURN_IF_ERROR(ExerciseObservation(r, e.mutable_exercise_session()));
  } else {
    return absl::UnimplementedError(absl::StrCat(
        "code: not in the profile (LOINC ", kLoincPainNrs, ", or ", kCodes,
        " morning-stiffness, run-session, exercise-session)"));
  }
  return e;
}

absl::StatusOr<v1::Event> QuestionnaireResponseToEvent(const Json& r) {
  const std::string q = StringMember(r, "questionnaire").value_or("");
  if (!absl::StrContains(absl::AsciiStrToLower(q), "visa-a")) {
    return absl::UnimplementedError(
        "questionnaire: only VISA-A is read (a canonical containing visa-a)");
  }
  v1::Event e;
  ACH_RETURN_IF_ERROR(Stamp(r, "QuestionnaireResponse", "authored", &e));
  v1::Questionnaire* out = e.mutable_questionnaire();
  out->set_kind(v1::QUESTIONNAIRE_VISA_A);
  const Json* items = Member(r, "item");
  if (items == nullptr || !items->is_array()) {
    return Bad("item", "required: 'total' or items q1-q8");
  }
  int sum = 0;
  bool has_total = false;
  for (size_t i = 0; i < items->size(); ++i) {
    const Json& item = (*items)[i];
    const std::string link = StringMember(item, "linkId").value_or("");
    const Json* answers = Member(item, "answer");
    const std::string f = absl::StrCat("item[", i, "]");
    if (answers == nullptr || !answers->is_array() || answers->size() != 1) {
      return Bad(f + ".answer", "exactly one answer");
    }
    auto v = IntMember((*answers)[0], "valueInteger");
    if (!v) return Bad(f + ".answer[0].valueInteger", "missing");
    if (link == "total") {
      out->set_total_score(static_cast<int32_t>(*v));
      has_total = true;
    } else if (link == absl::StrCat("q", out->item_scores_size() + 1)) {
      out->add_item_scores(static_cast<int32_t>(*v));
      sum += static_cast<int>(*v);
    } else {
      return Bad(f + ".linkId", "expected 'total' or q1..q8 in order");
    }
  }
  if (!has_total) out->set_total_score(sum);
  return e;
}

absl::StatusOr<v1::Event> ConditionToEvent(const Json& r) {
  v1::Event e;
  const char* when =
      Member(r, "onsetDateTime") ? "onsetDateTime" : "recordedDate";
  ACH_RETURN_IF_ERROR(Stamp(r, "Condition", when, &e));
  v1::Finding* f = e.mutable_finding();
  if (const Json* sites = Member(r, "bodySite")) {
    if (!sites->is_array() || sites->empty()) {
      return Bad("bodySite", "an array of CodeableConcept");
    }
    auto code = CodeIn((*sites)[0], kValues);
    auto n = code ? EnumFromCode(v1::Location_descriptor(), "LOCATION_", *code)
                  : std::nullopt;
    if (!n)
      return Bad("bodySite[0]", "needs a location coding (midportion, ...)");
    f->set_location(static_cast<v1::Location>(*n));
  }
  if (const Json* stages = Member(r, "stage")) {
    const Json* summary = stages->is_array() && !stages->empty()
                              ? Member((*stages)[0], "summary")
                              : nullptr;
    auto code = summary ? CodeIn(*summary, kValues) : std::nullopt;
    auto n = code ? EnumFromCode(v1::Stage_descriptor(), "STAGE_", *code)
                  : std::nullopt;
    if (!n)
      return Bad("stage[0].summary", "needs a stage coding (reactive, ...)");
    f->set_stage(static_cast<v1::Stage>(*n));
  }
  if (f->location() == v1::LOCATION_UNSPECIFIED &&
      f->stage() == v1::STAGE_UNSPECIFIED) {
    return Bad("bodySite", "a Condition needs a location or a stage");
  }
  return e;
}

absl::StatusOr<v1::Patient> PatientFromResource(const Json& r) {
  v1::Patient p;
  p.set_patient_id(StringMember(r, "id").value_or(""));
  if (auto birth = StringMember(r, "birthDate")) {
    int year = 0;
    if (birth->size() < 4 || !absl::SimpleAtoi(birth->substr(0, 4), &year)) {
      return Bad("birthDate", "not a FHIR date");
    }
    p.set_birth_year(year);
  }
  return p;
}

}  // namespace achilles::ehr_internal
