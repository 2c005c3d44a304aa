// FHIR R4 test data in the profile of docs/FHIR_MAPPING.md, dated relative
// to now so evaluations see current data: an ordinary rehab timeline and
// one whose latest run took 60 h to settle (red flag RF-5).
#ifndef ACHILLES_TESTS_EHR_FHIR_BUNDLES_H_
#define ACHILLES_TESTS_EHR_FHIR_BUNDLES_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace achilles::testing {

using nlohmann::json;

inline constexpr char kCodes[] = "urn:achilles-cds:fhir:code";
inline constexpr char kValues[] = "urn:achilles-cds:fhir:value";

inline std::string DaysAgo(double days) {
  // Whole hours, so the text round-trips exactly.
  const absl::Time t = absl::FromUnixSeconds(
      absl::ToUnixSeconds(absl::Now() - absl::Hours(days * 24)) / 3600 * 3600);
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

inline json Coded(const char* system, const std::string& code) {
  return {{"coding", json::array({{{"system", system}, {"code", code}}})}};
}

inline json Comp(const std::string& code, const char* key, json value) {
  return {{"code", Coded(kCodes, code)}, {key, std::move(value)}};
}

inline json Obs(const std::string& id, const std::string& pid, double days,
                json code) {
  return {{"resourceType", "Observation"},
          {"id", id},
          {"meta", {{"versionId", "1"}}},
          {"status", "final"},
          {"subject", {{"reference", "Patient/" + pid}}},
          {"effectiveDateTime", DaysAgo(days)},
          {"code", std::move(code)},
          {"component", json::array()}};
}

inline json Run(const std::string& id, const std::string& pid, double days,
                double km, int during, int after, double settle_hours) {
  json r = Obs(id, pid, days, Coded(kCodes, "run-session"));
  r["component"] = json::array(
      {Comp("duration", "valueQuantity", {{"value", 30}, {"unit", "min"}}),
       Comp("distance", "valueQuantity", {{"value", km}, {"unit", "km"}}),
       Comp("intensity", "valueCodeableConcept", Coded(kValues, "easy")),
       Comp("pain-during", "valueInteger", during),
       Comp("pain-after", "valueInteger", after),
       Comp("pain-next-morning", "valueInteger", after),
       Comp("settle-hours", "valueQuantity",
            {{"value", settle_hours}, {"unit", "h"}})});
  return r;
}

inline json Exercise(const std::string& id, const std::string& pid, double days,
                     int pain) {
  json r = Obs(id, pid, days, Coded(kCodes, "exercise-session"));
  r["component"] = json::array(
      {Comp("exercise", "valueCodeableConcept",
            Coded(kValues, "single-leg-heel-raise-flat")),
       Comp("sets", "valueInteger", 3), Comp("reps", "valueInteger", 15),
       Comp("completed", "valueBoolean", true),
       Comp("pain-during", "valueInteger", pain),
       Comp("pain-after", "valueInteger", pain)});
  return r;
}

inline json Pain(const std::string& id, const std::string& pid, double days,
                 const std::string& activity, int pain) {
  json r = Obs(id, pid, days, Coded("http://loinc.org", "72514-3"));
  r["valueInteger"] = pain;
  r["component"] = json::array(
      {Comp("activity", "valueCodeableConcept", Coded(kValues, activity))});
  return r;
}

inline json Stiffness(const std::string& id, const std::string& pid,
                      double days, int minutes, int severity) {
  json r = Obs(id, pid, days, Coded(kCodes, "morning-stiffness"));
  r["valueQuantity"] = {{"value", minutes}, {"unit", "min"}};
  r["component"] = json::array(
      {Comp("stiffness-severity", "valueInteger", severity),
       Comp("vs-baseline", "valueCodeableConcept", Coded(kValues, "same"))});
  return r;
}

inline json VisaA(const std::string& id, const std::string& pid, double days,
                  int total) {
  return {
      {"resourceType", "QuestionnaireResponse"},
      {"id", id},
      {"status", "completed"},
      {"questionnaire", "urn:achilles-cds:fhir:questionnaire:visa-a"},
      {"subject", {{"reference", "Patient/" + pid}}},
      {"authored", DaysAgo(days)},
      {"item",
       json::array({{{"linkId", "total"},
                     {"answer", json::array({{{"valueInteger", total}}})}}})}};
}

inline json Diagnosis(const std::string& id, const std::string& pid,
                      double days) {
  return {{"resourceType", "Condition"},
          {"id", id},
          {"subject", {{"reference", "Patient/" + pid}}},
          {"code", {{"text", "Achilles tendinopathy"}}},
          {"recordedDate", DaysAgo(days)},
          {"bodySite", json::array({Coded(kValues, "midportion")})},
          {"stage", json::array({{{"summary", Coded(kValues, "disrepair")}}})}};
}

inline json Bundle(const std::string& pid, const json& resources,
                   const std::string& type = "collection") {
  json entries = json::array();
  entries.push_back({{"fullUrl", "urn:test:Patient/" + pid},
                     {"resource",
                      {{"resourceType", "Patient"},
                       {"id", pid},
                       {"birthDate", "1985-04-02"}}}});
  for (const auto& r : resources) {
    entries.push_back(
        {{"fullUrl", "urn:test:" + r["resourceType"].get<std::string>() + "/" +
                         r["id"].get<std::string>()},
         {"resource", r}});
  }
  return {{"resourceType", "Bundle"}, {"type", type}, {"entry", entries}};
}

// Three weeks of easy runs and heel raises with low, steady pain.
inline json OrdinaryBundle(const std::string& pid) {
  json r =
      json::array({Diagnosis("dx1", pid, 20), VisaA("visa1", pid, 20, 62)});
  for (int d = 18; d >= 2; d -= 4) {
    r.push_back(Run("run" + std::to_string(d), pid, d, 4.0, 2, 2, 6));
    r.push_back(Exercise("ex" + std::to_string(d), pid, d - 1, 2));
    r.push_back(Stiffness("ms" + std::to_string(d), pid, d - 1.5, 10, 2));
    r.push_back(Pain("walk" + std::to_string(d), pid, d - 0.5, "walking", 1));
  }
  return Bundle(pid, r);
}

// As ordinary, but the latest run took 60 h to settle (RF-5).
inline json RedFlagBundle(const std::string& pid) {
  json b = OrdinaryBundle(pid);
  b["entry"].push_back({{"fullUrl", "urn:test:Observation/run-late"},
                        {"resource", Run("run-late", pid, 1, 5.0, 4, 5, 60)}});
  return b;
}

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_EHR_FHIR_BUNDLES_H_
