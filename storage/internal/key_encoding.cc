#include "storage/internal/key_encoding.h"

#include "absl/strings/str_cat.h"

namespace achilles::storage_internal {

void AppendBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint64_t ReadBigEndian64(absl::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<uint8_t>(in[i]);
  }
  return v;
}

void AppendTime(std::string* out, int64_t micros) {
  AppendBigEndian64(out, static_cast<uint64_t>(micros) ^ (uint64_t{1} << 63));
}

int64_t ReadTime(absl::string_view in) {
  return static_cast<int64_t>(ReadBigEndian64(in) ^ (uint64_t{1} << 63));
}

std::string ClinicPrefix(absl::string_view clinic) {
  return absl::StrCat(clinic, absl::string_view("\0", 1));
}

std::string PatientKey(absl::string_view clinic, absl::string_view patient) {
  return absl::StrCat(clinic, absl::string_view("\0", 1), patient);
}

std::string PatientPrefix(absl::string_view clinic, absl::string_view patient) {
  return absl::StrCat(clinic, absl::string_view("\0", 1), patient,
                      absl::string_view("\0", 1));
}

std::string EventKey(absl::string_view clinic, absl::string_view patient,
                     int64_t micros, absl::string_view event_id) {
  return absl::StrCat(PatientPrefix(clinic, patient),
                      EventKeySuffix(micros, event_id));
}

std::string EventKeySuffix(int64_t micros, absl::string_view event_id) {
  std::string suffix;
  AppendTime(&suffix, micros);
  suffix.append(event_id.data(), event_id.size());
  return suffix;
}

std::string EventIdKey(absl::string_view clinic, absl::string_view patient,
                       absl::string_view event_id) {
  return absl::StrCat(PatientPrefix(clinic, patient), event_id);
}

std::string PolicyKey(absl::string_view clinic, int64_t version) {
  std::string key = ClinicPrefix(clinic);
  AppendBigEndian64(&key, static_cast<uint64_t>(version));
  return key;
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c != 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return end;  // Empty: no upper bound.
}

}  // namespace achilles::storage_internal
