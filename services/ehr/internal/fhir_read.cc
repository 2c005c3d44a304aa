#include "services/ehr/internal/fhir_read.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace achilles::ehr_internal {
namespace {

absl::Status Bad(const std::string& field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

}  // namespace

absl::StatusOr<int64_t> ParseFhirDateTime(const std::string& field,
                                          const std::string& text) {
  absl::Time t;
  std::string err;
  for (const char* fmt : {"%Y-%m-%d%ET%H:%M:%E*S%Ez", "%Y-%m-%d%ET%H:%M%Ez"}) {
    if (absl::ParseTime(fmt, text, &t, &err)) return absl::ToUnixMicros(t);
  }
  if (text.size() == 10 && absl::ParseTime("%Y-%m-%d", text, &t, &err)) {
    return absl::ToUnixMicros(t);
  }
  return Bad(field, absl::StrCat("'", text.substr(0, 40),
                                 "' is not a FHIR dateTime with a time zone "
                                 "(e.g. 2026-03-01T08:00:00Z) or a date"));
}

std::optional<std::string> CodeIn(const Json& cc, const char* system) {
  const Json* codings = Member(cc, "coding");
  if (codings == nullptr || !codings->is_array()) return std::nullopt;
  for (const Json& c : *codings) {
    if (StringMember(c, "system").value_or("") == system) {
      if (auto code = StringMember(c, "code")) return code;
    }
  }
  return std::nullopt;
}

const Json* FindComponent(const Json& obs, const char* system,
                          const char* code) {
  const Json* comps = Member(obs, "component");
  if (comps == nullptr || !comps->is_array()) return nullptr;
  for (const Json& c : *comps) {
    const Json* cc = Member(c, "code");
    if (cc != nullptr && CodeIn(*cc, system).value_or("") == code) return &c;
  }
  return nullptr;
}

absl::StatusOr<std::optional<double>> NumericValue(const std::string& field,
                                                   const Json& holder) {
  for (const char* key : {"valueInteger", "valueDecimal"}) {
    if (const Json* v = Member(holder, key)) {
      if (!v->is_number()) return Bad(field + "." + key, "not a number");
      return v->get<double>();
    }
  }
  if (const Json* q = Member(holder, "valueQuantity")) {
    const Json* v = Member(*q, "value");
    if (v == nullptr || !v->is_number()) {
      return Bad(field + ".valueQuantity.value", "missing or not a number");
    }
    return v->get<double>();
  }
  return std::optional<double>();
}

absl::StatusOr<std::optional<int>> PainValue(const std::string& field,
                                             const Json& holder) {
  auto v = NumericValue(field, holder);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<int>();
  const double d = **v;
  if (d != std::floor(d) || d < 0 || d > 10) {
    return Bad(field, absl::StrCat(d, " is not a whole number 0-10"));
  }
  return static_cast<int>(d);
}

absl::StatusOr<std::string> PatientOf(const std::string& field,
                                      const Json& reference) {
  const std::string ref = StringMember(reference, "reference").value_or("");
  constexpr absl::string_view kPrefix = "Patient/";
  if (!absl::StartsWith(ref, kPrefix) || ref.size() == kPrefix.size()) {
    return Bad(field + ".reference", "must be 'Patient/<id>'");
  }
  return ref.substr(kPrefix.size());
}

}  // namespace achilles::ehr_internal
