#include "services/ehr/internal/fhir_codes.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"

namespace achilles::ehr_internal {

std::optional<int> EnumFromCode(const google::protobuf::EnumDescriptor* e,
                                const std::string& prefix,
                                const std::string& code) {
  const std::string name =
      prefix + absl::AsciiStrToUpper(absl::StrReplaceAll(code, {{"-", "_"}}));
  const auto* v = e->FindValueByName(name);
  if (v == nullptr || v->number() == 0) return std::nullopt;
  return v->number();
}

std::string CodeFromEnum(const google::protobuf::EnumDescriptor* e,
                         const std::string& prefix, int number) {
  const auto* v = e->FindValueByNumber(number);
  if (v == nullptr || number == 0 || v->name().rfind(prefix, 0) != 0) {
    return "";
  }
  return absl::AsciiStrToLower(
      absl::StrReplaceAll(v->name().substr(prefix.size()), {{"_", "-"}}));
}

}  // namespace achilles::ehr_internal
