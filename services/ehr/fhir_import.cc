// ParseBundle: every entry mapped (docs/FHIR_MAPPING.md) and validated as
// AppendEvents would, each problem reported with its fullUrl, so the
// caller can store all of the bundle or none of it.
#include <map>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/ehr/ehr.h"
#include "services/ehr/internal/fhir_read.h"
#include "services/ehr/internal/fhir_resources.h"
#include "services/ehr/internal/json_util.h"
#include "services/validation/validation.h"

namespace achilles::ehr {
namespace {

using ehr_internal::Json;
using ehr_internal::Member;
using ehr_internal::StringMember;

constexpr size_t kMaxEntries = 5000;

struct Entry {
  std::string full_url;
  const Json* resource;
};

// The entries of a Bundle, or the resource itself when it is not one.
// Searchset bundles nested inside a prefetch are flattened by the caller.
std::vector<Entry> EntriesOf(const Json& root,
                             std::vector<BundleIssue>* errors) {
  std::vector<Entry> out;
  if (StringMember(root, "resourceType").value_or("") != "Bundle") {
    out.push_back({"resource", &root});
    return out;
  }
  const Json* entries = Member(root, "entry");
  if (entries == nullptr) return out;
  if (!entries->is_array()) {
    errors->push_back({"Bundle", "entry: must be an array"});
    return out;
  }
  for (size_t i = 0; i < entries->size(); ++i) {
    const Json& e = (*entries)[i];
    std::string url = StringMember(e, "fullUrl").value_or("");
    if (url.empty()) url = absl::StrCat("entry[", i, "]");
    const Json* r = Member(e, "resource");
    if (r == nullptr || !r->is_object()) {
      errors->push_back({url, "resource: missing"});
      continue;
    }
    out.push_back({url, r});
  }
  return out;
}

// The patient a resource is about ("" for a Patient, whose id is it).
absl::StatusOr<std::string> SubjectOf(const std::string& type, const Json& r) {
  if (type == "Patient") return StringMember(r, "id").value_or("");
  const Json* subject = Member(r, "subject");
  if (subject == nullptr) {
    return absl::InvalidArgumentError("subject: required (Patient/<id>)");
  }
  return ehr_internal::PatientOf("subject", *subject);
}

absl::StatusOr<v1::Event> ToEvent(const std::string& type, const Json& r) {
  if (type == "Observation") return ehr_internal::ObservationToEvent(r);
  if (type == "QuestionnaireResponse") {
    return ehr_internal::QuestionnaireResponseToEvent(r);
  }
  if (type == "Condition") return ehr_internal::ConditionToEvent(r);
  return absl::UnimplementedError(absl::StrCat(
      "resourceType ", type.empty() ? "(missing)" : type, " is not imported"));
}

class Importer {
 public:
  explicit Importer(std::string pinned) : pinned_(std::move(pinned)) {}

  void Add(const Entry& entry, ParsedBundle* out) {
    const std::string type =
        StringMember(*entry.resource, "resourceType").value_or("");
    if (type == "Bundle") {  // A searchset inside a prefetch.
      for (const Entry& inner : EntriesOf(*entry.resource, &out->errors)) {
        Add(inner, out);
      }
      return;
    }
    const bool known = type == "Patient" || type == "Observation" ||
                       type == "QuestionnaireResponse" || type == "Condition";
    if (!known) {
      out->skipped.push_back(
          {entry.full_url,
           std::string(ToEvent(type, *entry.resource).status().message())});
      return;
    }
    if (auto st = CheckSubject(type, *entry.resource); !st.ok()) {
      out->errors.push_back({entry.full_url, std::string(st.message())});
      return;
    }
    if (type == "Patient") {
      AddPatient(entry, out);
      return;
    }
    AddEvent(type, entry, out);
  }

  const std::string& patient_id() const {
    return patient_.empty() ? pinned_ : patient_;
  }

 private:
  absl::Status CheckSubject(const std::string& type, const Json& r) {
    auto subject = SubjectOf(type, r);
    if (!subject.ok()) return subject.status();
    if (auto st = validation::ValidateId("patient id", *subject); !st.ok()) {
      return st;
    }
    const std::string& want = !pinned_.empty() ? pinned_ : patient_;
    if (!want.empty() && *subject != want) {
      return absl::InvalidArgumentError(
          "subject: another patient than the rest of the bundle");
    }
    if (patient_.empty()) patient_ = *subject;
    return absl::OkStatus();
  }

  void AddPatient(const Entry& entry, ParsedBundle* out) {
    auto p = ehr_internal::PatientFromResource(*entry.resource);
    if (!p.ok()) {
      out->errors.push_back(
          {entry.full_url, std::string(p.status().message())});
      return;
    }
    out->patient = *p;
    out->has_patient_resource = true;
  }

  void AddEvent(const std::string& type, const Entry& entry,
                ParsedBundle* out) {
    auto e = ToEvent(type, *entry.resource);
    if (e.ok()) {
      auto st = validation::ValidateEvent(type, *e, NowMicros());
      if (!st.ok()) e = st;
    }
    if (!e.ok()) {
      auto& list =
          absl::IsUnimplemented(e.status()) ? out->skipped : out->errors;
      list.push_back({entry.full_url, std::string(e.status().message())});
      return;
    }
    // The same resource version twice is one event; the same id and
    // version with other content cannot both be stored.
    auto [it, fresh] = ids_.emplace(e->event_id(), e->SerializeAsString());
    if (!fresh) {
      if (it->second != e->SerializeAsString()) {
        out->errors.push_back(
            {entry.full_url,
             "id and meta.versionId repeat an earlier entry with other "
             "content"});
      }
      return;
    }
    out->events.push_back(*std::move(e));
  }

  const std::string pinned_;
  std::string patient_;
  std::map<std::string, std::string> ids_;  // event id -> bytes
};

}  // namespace

absl::StatusOr<ParsedBundle> ParseBundle(const std::string& json,
                                         const std::string& patient_id) {
  Json root = ehr_internal::ParseJson(json);
  if (!root.is_object()) {
    return absl::InvalidArgumentError("body: not a JSON object");
  }
  ParsedBundle out;
  std::vector<Entry> entries = EntriesOf(root, &out.errors);
  if (entries.size() > kMaxEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entry: ", entries.size(), " entries; at most ", kMaxEntries));
  }
  Importer importer(patient_id);
  for (const Entry& e : entries) importer.Add(e, &out);
  out.patient.set_patient_id(importer.patient_id());
  if (out.patient.patient_id().empty() && out.errors.empty()) {
    out.errors.push_back({"Bundle", "no resource names a patient"});
  }
  return out;
}

}  // namespace achilles::ehr
