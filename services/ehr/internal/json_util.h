// Exception-free reading of nlohmann::json values: every accessor checks
// the type first, so malformed input is an error message, never a throw.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_JSON_UTIL_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_JSON_UTIL_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace achilles::ehr_internal {

using Json = nlohmann::json;
// Keys in insertion order, so what we write reads in a natural order and
// the same input always gives the same bytes.
using OJson = nlohmann::ordered_json;

// Deeper nesting is refused: FHIR resources and JWKS documents stay far
// below it, and a value nested without bound (from a caller or a remote
// server) would otherwise cost memory and recursion in what reads it.
inline constexpr int kMaxJsonDepth = 64;

// Discarded (is_discarded()) when `text` is not JSON or nests deeper than
// kMaxJsonDepth.
inline Json ParseJson(const std::string& text) {
  bool too_deep = false;
  Json j = Json::parse(
      text,
      [&too_deep](int depth, Json::parse_event_t, Json&) {
        if (depth > kMaxJsonDepth) too_deep = true;
        return !too_deep;
      },
      /*allow_exceptions=*/false);
  if (too_deep) return Json(Json::value_t::discarded);
  return j;
}

// The member, or nullptr when `obj` is not an object or lacks `key`.
inline const Json* Member(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

inline std::optional<std::string> StringMember(const Json& obj,
                                               const char* key) {
  const Json* v = Member(obj, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

inline std::optional<int64_t> IntMember(const Json& obj, const char* key) {
  const Json* v = Member(obj, key);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  return v->get<int64_t>();
}

// Serialized without exceptions: invalid UTF-8 is replaced, not thrown.
inline std::string Dump(const OJson& j, int indent = -1) {
  return j.dump(indent, ' ', false, OJson::error_handler_t::replace);
}
inline std::string Dump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_JSON_UTIL_H_
