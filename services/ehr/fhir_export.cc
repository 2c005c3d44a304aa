// ExportBundle: the inverse of the import mapping (docs/FHIR_MAPPING.md).
// Events that came from FHIR keep their resource id and version, so
// exporting and importing again stores nothing new.
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/time_util.h"
#include "services/ehr/ehr.h"
#include "services/ehr/internal/fhir_codes.h"
#include "services/ehr/internal/json_util.h"

namespace achilles::ehr {
namespace {

using ehr_internal::kCodes;
using ehr_internal::kValues;
using ehr_internal::OJson;

std::string Time(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ",
                          absl::FromUnixMicros(ToMicros(ts)),
                          absl::UTCTimeZone());
}

// Resource id and version: recovered from "fhir:X:id:version", otherwise
// the event id with the characters FHIR ids lack replaced.
std::pair<std::string, std::string> IdOf(const std::string& event_id) {
  std::vector<std::string> p = absl::StrSplit(event_id, ':');
  if (p.size() == 4 && p[0] == "fhir" && p[1].size() == 1) return {p[2], p[3]};
  std::string id = event_id;
  for (char& c : id) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.')
      c = '-';
  }
  return {id, "1"};
}

OJson Coding(const char* system, const std::string& code) {
  return {{"coding", OJson::array({{{"system", system}, {"code", code}}})}};
}

OJson Component(const std::string& code, const char* key, OJson value) {
  OJson c;
  c["code"] = Coding(kCodes, code);
  c[key] = std::move(value);
  return c;
}

OJson Quantity(double v, const char* unit) {
  return {{"value", v}, {"unit", unit}};
}

template <typename Enum>
void EnumComponent(OJson* comps, const char* code,
                   const google::protobuf::EnumDescriptor* d,
                   const char* prefix, Enum v) {
  const std::string value = ehr_internal::CodeFromEnum(d, prefix, v);
  if (!value.empty()) {
    comps->push_back(
        Component(code, "valueCodeableConcept", Coding(kValues, value)));
  }
}

void ResponseComponents(const v1::LoadResponse& r, OJson* comps) {
  if (r.has_pain_during()) {
    comps->push_back(Component("pain-during", "valueInteger", r.pain_during()));
  }
  if (r.has_pain_after()) {
    comps->push_back(Component("pain-after", "valueInteger", r.pain_after()));
  }
  if (r.has_pain_next_morning()) {
    comps->push_back(
        Component("pain-next-morning", "valueInteger", r.pain_next_morning()));
  }
  if (r.has_pain_before()) {
    comps->push_back(Component("pain-before", "valueInteger", r.pain_before()));
  }
  if (r.has_eased_with_warmup()) {
    comps->push_back(
        Component("eased-with-warmup", "valueBoolean", r.eased_with_warmup()));
  }
  if (r.has_limping()) {
    comps->push_back(Component("limping", "valueBoolean", r.limping()));
  }
  if (r.has_settle_time_hours()) {
    comps->push_back(Component("settle-hours", "valueQuantity",
                               Quantity(r.settle_time_hours(), "h")));
  }
}

OJson Base(const char* type, const v1::Event& e, const std::string& pid) {
  auto [id, version] = IdOf(e.event_id());
  OJson r;
  r["resourceType"] = type;
  r["id"] = id;
  r["meta"] = {{"versionId", version}};
  r["subject"] = {{"reference", "Patient/" + pid}};
  return r;
}

OJson PainObservation(const v1::Event& e, const std::string& pid) {
  OJson r = Base("Observation", e, pid);
  r["status"] = "final";
  r["code"] = Coding(ehr_internal::kLoinc, ehr_internal::kLoincPainNrs);
  r["effectiveDateTime"] = Time(e.occurred_at());
  const auto& p = e.pain_report();
  v1::LoadResponse rest = p.response();
  if (rest.has_pain_during()) r["valueInteger"] = rest.pain_during();
  rest.clear_pain_during();
  OJson comps = OJson::array();
  EnumComponent(&comps, "activity", v1::Activity_descriptor(), "ACTIVITY_",
                p.activity());
  ResponseComponents(rest, &comps);
  r["component"] = comps;
  return r;
}

OJson RunComponents(const v1::RunSession& s) {
  OJson comps = OJson::array();
  comps.push_back(Component("duration", "valueQuantity",
                            Quantity(s.duration_minutes(), "min")));
  if (s.distance_km() != 0) {
    comps.push_back(Component("distance", "valueQuantity",
                              Quantity(s.distance_km(), "km")));
  }
  if (s.ladder_level() != 0) {
    comps.push_back(
        Component("ladder-level", "valueInteger", s.ladder_level()));
  }
  if (s.cadence_spm() != 0) {
    comps.push_back(Component("cadence", "valueInteger", s.cadence_spm()));
  }
  EnumComponent(&comps, "intensity", v1::Intensity_descriptor(), "INTENSITY_",
                s.intensity());
  EnumComponent(&comps, "terrain", v1::Terrain_descriptor(), "TERRAIN_",
                s.terrain());
  ResponseComponents(s.response(), &comps);
  return comps;
}

OJson ExerciseComponents(const v1::ExerciseSession& s) {
  OJson comps = OJson::array();
  EnumComponent(&comps, "exercise", v1::Exercise_descriptor(), "EXERCISE_",
                s.exercise());
  EnumComponent(&comps, "programme", v1::Programme_descriptor(), "PROGRAMME_",
                s.programme());
  if (s.sets() != 0)
    comps.push_back(Component("sets", "valueInteger", s.sets()));
  if (s.reps() != 0)
    comps.push_back(Component("reps", "valueInteger", s.reps()));
  if (s.load_kg() != 0) {
    comps.push_back(
        Component("load", "valueQuantity", Quantity(s.load_kg(), "kg")));
  }
  if (s.hold_seconds() != 0) {
    comps.push_back(
        Component("hold", "valueQuantity", Quantity(s.hold_seconds(), "s")));
  }
  comps.push_back(Component("completed", "valueBoolean", s.completed()));
  ResponseComponents(s.response(), &comps);
  return comps;
}

OJson SessionObservation(const v1::Event& e, const std::string& pid) {
  OJson r = Base("Observation", e, pid);
  r["status"] = "final";
  r["effectiveDateTime"] = Time(e.occurred_at());
  const bool run = e.has_run_session();
  r["code"] = Coding(
      kCodes, run ? ehr_internal::kRunSession : ehr_internal::kExerciseSession);
  r["component"] = run ? RunComponents(e.run_session())
                       : ExerciseComponents(e.exercise_session());
  return r;
}

OJson StiffnessObservation(const v1::Event& e, const std::string& pid) {
  OJson r = Base("Observation", e, pid);
  const auto& m = e.morning_stiffness();
  r["status"] = "final";
  r["code"] = Coding(kCodes, ehr_internal::kMorningStiffness);
  r["effectiveDateTime"] = Time(e.occurred_at());
  if (m.has_minutes()) r["valueQuantity"] = Quantity(m.minutes(), "min");
  OJson comps = OJson::array();
  if (m.has_severity()) {
    comps.push_back(
        Component("stiffness-severity", "valueInteger", m.severity()));
  }
  EnumComponent(&comps, "vs-baseline", v1::Comparison_descriptor(),
                "COMPARISON_", m.vs_baseline());
  r["component"] = comps;
  return r;
}

OJson Questionnaire(const v1::Event& e, const std::string& pid) {
  OJson r = Base("QuestionnaireResponse", e, pid);
  r["questionnaire"] = ehr_internal::kVisaA;
  r["status"] = "completed";
  r["authored"] = Time(e.occurred_at());
  OJson items = OJson::array();
  const auto& q = e.questionnaire();
  for (int i = 0; i < q.item_scores_size(); ++i) {
    items.push_back(
        {{"linkId", absl::StrCat("q", i + 1)},
         {"answer", OJson::array({{{"valueInteger", q.item_scores(i)}}})}});
  }
  items.push_back(
      {{"linkId", "total"},
       {"answer", OJson::array({{{"valueInteger", q.total_score()}}})}});
  r["item"] = items;
  return r;
}

OJson Condition(const v1::Event& e, const std::string& pid) {
  OJson r = Base("Condition", e, pid);
  const auto& f = e.finding();
  r["code"] = {{"text", "Achilles tendinopathy"}};
  r["recordedDate"] = Time(e.occurred_at());
  const std::string loc = ehr_internal::CodeFromEnum(v1::Location_descriptor(),
                                                     "LOCATION_", f.location());
  if (!loc.empty()) r["bodySite"] = OJson::array({Coding(kValues, loc)});
  const std::string stage =
      ehr_internal::CodeFromEnum(v1::Stage_descriptor(), "STAGE_", f.stage());
  if (!stage.empty()) {
    r["stage"] = OJson::array({{{"summary", Coding(kValues, stage)}}});
  }
  return r;
}

// Null when the event has no resource in the mapping.
std::optional<OJson> ResourceFor(const v1::Event& e, const std::string& pid) {
  switch (e.kind_case()) {
    case v1::Event::kPainReport:
      return PainObservation(e, pid);
    case v1::Event::kMorningStiffness:
      return StiffnessObservation(e, pid);
    case v1::Event::kRunSession:
    case v1::Event::kExerciseSession:
      return SessionObservation(e, pid);
    case v1::Event::kQuestionnaire:
      return Questionnaire(e, pid);
    case v1::Event::kFinding:
      if (e.finding().location() == v1::LOCATION_UNSPECIFIED &&
          e.finding().stage() == v1::STAGE_UNSPECIFIED) {
        return std::nullopt;
      }
      return Condition(e, pid);
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string LeftOut::ByKindText() const {
  std::vector<std::string> parts;
  for (const auto& [kind, n] : by_kind)
    parts.push_back(absl::StrCat(kind, "=", n));
  return absl::StrJoin(parts, ",");
}

std::string ExportBundle(const v1::Patient& patient,
                         const std::vector<v1::Event>& events,
                         LeftOut* left_out) {
  const std::string& pid = patient.patient_id();
  OJson entries = OJson::array();
  OJson p = {{"resourceType", "Patient"}, {"id", pid}};
  if (patient.birth_year() > 0)
    p["birthDate"] = std::to_string(patient.birth_year());
  entries.push_back({{"fullUrl", "Patient/" + pid}, {"resource", p}});
  LeftOut skipped;
  for (const auto& e : events) {
    auto r = ResourceFor(e, pid);
    if (!r) {
      const auto* kind = e.GetDescriptor()->FindFieldByNumber(e.kind_case());
      ++skipped.total;
      ++skipped.by_kind[kind != nullptr ? kind->name() : "unset"];
      continue;
    }
    const std::string url =
        absl::StrCat((*r)["resourceType"].get<std::string>(), "/",
                     (*r)["id"].get<std::string>());
    entries.push_back({{"fullUrl", url}, {"resource", *std::move(r)}});
  }
  if (left_out != nullptr) *left_out = std::move(skipped);
  OJson bundle = {{"resourceType", "Bundle"}, {"type", "collection"}};
  bundle["entry"] = entries;
  return ehr_internal::Dump(bundle, 1);
}

}  // namespace achilles::ehr
