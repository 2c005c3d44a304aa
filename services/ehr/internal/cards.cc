#include "services/ehr/internal/cards.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/time_util.h"

namespace achilles::ehr_internal {
namespace {

const char* Indicator(v1::Severity s) {
  switch (s) {
    case v1::SEVERITY_CRITICAL:
      return "critical";
    case v1::SEVERITY_WARNING:
      return "warning";
    default:
      return "info";
  }
}

std::string SourceLabel(const v1::Recommendation& r) {
  switch (r.provenance()) {
    case v1::PROVENANCE_SAFETY_SCREEN:
      return "achilles-cds safety screen";
    case v1::PROVENANCE_ENGINE_RULE:
      return "achilles-cds general advice";
    default:
      return absl::StrCat("achilles-cds plugin ", r.plugin_id(), " ",
                          r.plugin_version());
  }
}

std::string ObservedLine(const v1::Observation& o) {
  std::string line =
      absl::StrCat("- ", Md(o.label()), ": **", Md(o.value()), "**");
  if (o.has_observed_at()) {
    absl::StrAppend(&line, " (", FormatDay(ToMicros(o.observed_at())));
    if (o.has_age_days()) absl::StrAppend(&line, ", ", o.age_days(), " d ago");
    absl::StrAppend(&line, ")");
  }
  return line;
}

std::string Detail(const v1::Recommendation& r) {
  const v1::Rationale& why = r.rationale();
  std::vector<std::string> parts;
  if (!r.detail().empty()) parts.push_back(Md(r.detail()));
  parts.push_back(
      absl::StrCat("**Rule ", Md(why.rule_id()), "**: ", Md(why.rule())));
  if (!why.threshold().empty()) {
    parts.push_back(absl::StrCat("**Threshold**: ", Md(why.threshold())));
  }
  if (!why.policy().empty()) {
    parts.push_back(absl::StrCat("**Clinic policy**: ", Md(why.policy())));
  }
  if (why.observed_size() > 0) {
    std::vector<std::string> lines;
    for (const auto& o : why.observed()) lines.push_back(ObservedLine(o));
    parts.push_back(
        absl::StrCat("**Observed**:\n\n", absl::StrJoin(lines, "\n")));
  }
  if (why.sources_size() > 0) {
    parts.push_back(
        absl::StrCat("**Sources**: ", Md(absl::StrJoin(why.sources(), ", "))));
  }
  return absl::StrJoin(parts, "\n\n");
}

std::string PrescriptionText(const v1::Prescription& p) {
  std::vector<std::string> bits;
  if (!p.exercise().empty()) bits.push_back(p.exercise());
  if (p.sets() > 0 && p.reps() > 0) {
    bits.push_back(
        p.reps_max() > p.reps()
            ? absl::StrCat(p.sets(), "x", p.reps(), "-", p.reps_max())
            : absl::StrCat(p.sets(), "x", p.reps()));
  }
  if (p.hold_seconds() > 0)
    bits.push_back(absl::StrCat(p.hold_seconds(), " s hold"));
  if (!p.load().empty()) bits.push_back(p.load());
  if (!p.tempo().empty()) bits.push_back(p.tempo());
  if (!p.frequency().empty()) bits.push_back(p.frequency());
  if (p.jog_seconds() > 0) {
    bits.push_back(absl::StrCat(p.intervals(), " x ", p.jog_seconds(),
                                " s jog / ", p.walk_seconds(), " s walk"));
  }
  if (p.weekly_distance_km_max() > 0) {
    bits.push_back(
        absl::StrCat("at most ", p.weekly_distance_km_max(), " km per week"));
  }
  return absl::StrJoin(bits, ", ");
}

OJson Suggestion(const v1::Recommendation& r, const std::string& card_uuid,
                 const std::string& patient_id) {
  const std::string text = PrescriptionText(r.prescription());
  OJson resource;
  resource["resourceType"] = "ServiceRequest";
  resource["status"] = "draft";
  resource["intent"] = "proposal";
  resource["subject"]["reference"] = "Patient/" + patient_id;
  resource["code"]["text"] = text;
  resource["note"] = OJson::array({{{"text", r.summary()}}});
  OJson action;
  action["type"] = "create";
  action["description"] = "Draft the prescription: " + text;
  action["resource"] = resource;
  OJson s;
  s["label"] = ShortSummary("Prescribe: " + text);
  // The card's uuid with its last hex digit flipped: distinct from it and
  // just as stable.
  std::string uuid = card_uuid;
  if (!uuid.empty()) {
    const char c = uuid.back();
    const int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    uuid.back() = "0123456789abcdef"[(v ^ 1) & 15];
  }
  s["uuid"] = uuid;
  s["isRecommended"] = true;
  s["actions"] = OJson::array({action});
  return s;
}

}  // namespace

std::string Md(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\`*_[]<>#|").find(c) != std::string_view::npos) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

OJson CardFor(const v1::Recommendation& r, const v1::Evaluation& ev,
              const CardLinks& links) {
  const std::string uuid = links.uuid_for(r.id(), links.about);
  OJson card;
  card["uuid"] = uuid;
  card["summary"] = ShortSummary(r.summary());
  card["detail"] = Detail(r);
  card["indicator"] = Indicator(r.severity());
  card["source"]["label"] = SourceLabel(r);
  card["source"]["url"] = links.rules_url + "#" + r.rationale().rule_id();
  if (r.prescription().ByteSizeLong() > 0) {
    card["suggestions"] = OJson::array({Suggestion(r, uuid, ev.patient_id())});
    card["selectionBehavior"] = "at-most-one";
  }
  OJson reasons = OJson::array();
  for (const auto& [code, display] : OverrideReasons()) {
    reasons.push_back(
        {{"code", code}, {"system", kOverrideSystem}, {"display", display}});
  }
  card["overrideReasons"] = reasons;
  card["links"] = OJson::array({{{"label", "Clinician report (chart)"},
                                 {"url", links.report_url},
                                 {"type", "absolute"}}});
  return card;
}

const std::vector<std::pair<std::string, std::string>>& OverrideReasons() {
  static const auto* reasons =
      new std::vector<std::pair<std::string, std::string>>{
          {"clinical-judgement", "Clinical judgement: not appropriate now"},
          {"already-addressed", "Already addressed"},
          {"patient-declined", "Patient declined"},
          {"data-incorrect", "The data behind it is incorrect"},
      };
  return *reasons;
}

std::string ShortSummary(const std::string& s) {
  if (s.size() <= kMaxSummary) return s;
  size_t cut = kMaxSummary - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

OJson CardsFor(const v1::Evaluation& ev, const CardLinks& links) {
  std::vector<const v1::Recommendation*> kept;
  int others = 0;
  for (const auto& r : ev.recommendations()) {
    const bool safety = r.provenance() == v1::PROVENANCE_SAFETY_SCREEN ||
                        r.category() == v1::CATEGORY_SAFETY;
    if (!safety && others >= kMaxCards) continue;
    if (!safety) ++others;
    kept.push_back(&r);
  }
  OJson cards = OJson::array();
  for (const auto* r : kept) cards.push_back(CardFor(*r, ev, links));
  return cards;
}

}  // namespace achilles::ehr_internal
