#include "plugins/harness/scenario.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/time_util.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "services/validation/validation.h"
#include "storage/timeline_order.h"

namespace achilles::harness {
namespace {

bool IdMatches(const std::string& pattern, const std::string& id) {
  if (!pattern.empty() && pattern.back() == '*') {
    return absl::StartsWith(id, pattern.substr(0, pattern.size() - 1));
  }
  return pattern == id;
}

// Every field set in `want` (non-default) equals the same field in `got`.
std::vector<std::string> ComparePrescription(const v1::Prescription& want,
                                             const v1::Prescription& got) {
  std::vector<std::string> diffs;
  const auto* refl = want.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> set;
  refl->ListFields(want, &set);
  for (const auto* field : set) {
    std::string wv, gv;
    google::protobuf::TextFormat::PrintFieldValueToString(want, field, -1, &wv);
    google::protobuf::TextFormat::PrintFieldValueToString(got, field, -1, &gv);
    if (!refl->HasField(got, field) || wv != gv) {
      diffs.push_back(
          absl::StrCat(field->name(), ": want ", wv, ", got ",
                       refl->HasField(got, field) ? gv : "(unset)"));
    }
  }
  return diffs;
}

}  // namespace

absl::StatusOr<Scenario> LoadScenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  Scenario s;
  auto st = google::protobuf::util::JsonStringToMessage(text, &s);
  if (!st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a Scenario in protobuf JSON: ", st.ToString()));
  }
  return s;
}

namespace {

// The range validation accepts for event times (1900-01-01 .. 2200-01-01),
// and about a century either way for relative days: with these bounds the
// arithmetic below cannot overflow (it did, found by fuzz/engine_fuzzer).
constexpr int64_t kEarliestAnchorMicros = int64_t{-2208988800} * 1000000;
constexpr int64_t kLatestAnchorMicros = int64_t{7258118400} * 1000000;
constexpr int kMaxAbsDay = 36600;

absl::Status CheckDayHour(const std::string& field, int day, int hour) {
  if (day < -kMaxAbsDay || day > kMaxAbsDay) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, "day: ", day, " is outside -", kMaxAbsDay, "..", kMaxAbsDay));
  }
  if (hour < 0 || hour > 23) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, "hour: ", hour, " is outside 0..23"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> AnchorMicros(const Scenario& s) {
  const std::string anchor =
      s.anchor().empty() ? "2026-01-05T00:00:00Z" : s.anchor();
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, anchor, &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("anchor: '", anchor, "' is not RFC 3339: ", err));
  }
  // ParseTime also accepts "infinite-future" and years far outside any
  // timeline.
  const int64_t micros = absl::ToUnixMicros(t);
  if (micros < kEarliestAnchorMicros || micros > kLatestAnchorMicros) {
    return absl::InvalidArgumentError(absl::StrCat(
        "anchor: '", anchor, "' is not a plausible date (1900-2200)"));
  }
  return micros;
}

absl::StatusOr<std::vector<v1::Event>> MaterializeEvents(const Scenario& s) {
  auto anchor = AnchorMicros(s);
  if (!anchor.ok()) return anchor.status();
  std::vector<v1::Event> out;
  for (int i = 0; i < s.events_size(); ++i) {
    const ScenarioEvent& se = s.events(i);
    if (auto st =
            CheckDayHour(absl::StrCat("events[", i, "]."), se.day(), se.hour());
        !st.ok()) {
      return st;
    }
    v1::Event e = se.event();
    *e.mutable_occurred_at() = FromMicros(*anchor + se.day() * kMicrosPerDay +
                                          se.hour() * kMicrosPerHour);
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<int64_t> AsOfMicros(const Scenario& s) {
  auto anchor = AnchorMicros(s);
  if (!anchor.ok()) return anchor.status();
  if (auto st = CheckDayHour("as_of_", s.as_of_day(), s.as_of_hour());
      !st.ok()) {
    return st;
  }
  return *anchor + s.as_of_day() * kMicrosPerDay +
         (s.as_of_hour() == 0 ? 23 : s.as_of_hour()) * kMicrosPerHour;
}

absl::StatusOr<std::vector<v1::Event>> ServerTimeline(
    std::vector<v1::Event> events, int64_t as_of_us, int64_t now_us) {
  if (events.empty()) return events;
  if (auto st = validation::ValidateEventBatch(events, now_us); !st.ok()) {
    return st;
  }
  // Inclusive, as LoadTimeline includes events at exactly as_of.
  events.erase(std::remove_if(events.begin(), events.end(),
                              [&](const v1::Event& e) {
                                return ToMicros(e.occurred_at()) > as_of_us;
                              }),
               events.end());
  storage::SortTimeline(&events);
  return events;
}

namespace {

using Recs = google::protobuf::RepeatedPtrField<v1::Recommendation>;
using Fails = std::vector<std::string>;

bool AnyTextContains(const Recs& recs, const std::string& text,
                     const std::string& (v1::Recommendation::*field)() const) {
  return std::any_of(recs.begin(), recs.end(), [&](const auto& r) {
    return absl::StrContains(absl::AsciiStrToLower((r.*field)()),
                             absl::AsciiStrToLower(text));
  });
}

void CheckTop(const ScenarioExpectation& x, const Recs& recs, Fails* f) {
  if (x.top_rule_ids_size() > 0) {
    if (recs.empty()) {
      f->push_back("expected a top recommendation, got none");
    } else if (std::find(x.top_rule_ids().begin(), x.top_rule_ids().end(),
                         recs[0].rationale().rule_id()) ==
               x.top_rule_ids().end()) {
      f->push_back(absl::StrCat("top recommendation rule is ",
                                recs[0].rationale().rule_id(), " ('",
                                recs[0].summary(), "'), want one of ",
                                absl::StrJoin(x.top_rule_ids(), ", ")));
    }
  }
  if (x.top_severity() != v1::SEVERITY_UNSPECIFIED &&
      (recs.empty() || recs[0].severity() != x.top_severity())) {
    f->push_back(absl::StrCat(
        "top severity is ",
        recs.empty() ? "none" : v1::Severity_Name(recs[0].severity()),
        ", want ", v1::Severity_Name(x.top_severity())));
  }
}

void CheckPresent(const ScenarioExpectation& x, const Recs& recs, Fails* f) {
  for (const auto& rule : x.present_rule_ids()) {
    if (std::none_of(recs.begin(), recs.end(), [&](const auto& r) {
          return r.rationale().rule_id() == rule;
        })) {
      f->push_back(absl::StrCat("no active recommendation for rule ", rule));
    }
  }
  for (const auto& id : x.present_ids()) {
    if (std::none_of(recs.begin(), recs.end(),
                     [&](const auto& r) { return IdMatches(id, r.id()); })) {
      f->push_back(absl::StrCat("recommendation ", id, " is missing"));
    }
  }
}

void CheckAbsent(const ScenarioExpectation& x, const Recs& recs, Fails* f) {
  for (const auto& tag : x.absent_tags()) {
    for (const auto& r : recs) {
      if (std::find(r.tags().begin(), r.tags().end(), tag) != r.tags().end()) {
        f->push_back(absl::StrCat("must not advise '", tag, "' but ", r.id(),
                                  " does: '", r.summary(), "'"));
      }
    }
  }
  for (const auto& id : x.absent_ids()) {
    for (const auto& r : recs) {
      if (IdMatches(id, r.id())) {
        f->push_back(absl::StrCat("recommendation ", r.id(),
                                  " must not be present: '", r.summary(), "'"));
      }
    }
  }
}

void CheckText(const ScenarioExpectation& x, const Recs& recs, Fails* f) {
  for (const auto& text : x.summary_contains()) {
    if (!AnyTextContains(recs, text, &v1::Recommendation::summary)) {
      f->push_back(absl::StrCat("no summary contains '", text, "'"));
    }
  }
  for (const auto& text : x.detail_contains()) {
    if (!AnyTextContains(recs, text, &v1::Recommendation::detail)) {
      f->push_back(absl::StrCat("no detail contains '", text, "'"));
    }
  }
  for (const auto& text : x.summary_absent()) {
    if (AnyTextContains(recs, text, &v1::Recommendation::summary)) {
      f->push_back(absl::StrCat("a summary contains '", text, "'"));
    }
  }
}

void CheckPrescriptions(const ScenarioExpectation& x, const Recs& recs,
                        Fails* f) {
  for (const auto& check : x.prescriptions()) {
    auto it = std::find_if(recs.begin(), recs.end(), [&](const auto& r) {
      return r.id() == check.recommendation_id();
    });
    if (it == recs.end()) {
      f->push_back(absl::StrCat(
          "prescription check: ", check.recommendation_id(), " is missing"));
      continue;
    }
    for (const auto& d :
         ComparePrescription(check.prescription(), it->prescription())) {
      f->push_back(
          absl::StrCat(check.recommendation_id(), " prescription ", d));
    }
  }
}

void CheckEvaluation(const ScenarioExpectation& x, const v1::Evaluation& ev,
                     Fails* f) {
  for (const auto& id : x.suppressed_ids()) {
    if (std::none_of(ev.suppressed().begin(), ev.suppressed().end(),
                     [&](const auto& s) {
                       return IdMatches(id, s.recommendation().id());
                     })) {
      f->push_back(absl::StrCat("expected ", id, " to be suppressed"));
    }
  }
  for (const auto& id : x.failed_plugins()) {
    if (std::none_of(ev.plugins().begin(), ev.plugins().end(),
                     [&](const auto& p) {
                       return p.plugin_id() == id &&
                              p.status() == v1::PLUGIN_RUN_STATUS_FAILED;
                     })) {
      f->push_back(absl::StrCat("expected plugin ", id, " to fail"));
    }
  }
  if (x.confidence_level() != v1::CONFIDENCE_LEVEL_UNSPECIFIED &&
      ev.confidence_level() != x.confidence_level()) {
    f->push_back(absl::StrCat(
        "confidence is ", v1::ConfidenceLevel_Name(ev.confidence_level()),
        ", want ", v1::ConfidenceLevel_Name(x.confidence_level())));
  }
}

}  // namespace

std::vector<std::string> CheckExpectations(const ScenarioExpectation& x,
                                           const v1::Evaluation& ev) {
  Fails fails;
  const auto& recs = ev.recommendations();
  CheckTop(x, recs, &fails);
  CheckPresent(x, recs, &fails);
  CheckAbsent(x, recs, &fails);
  CheckText(x, recs, &fails);
  CheckPrescriptions(x, recs, &fails);
  CheckEvaluation(x, ev, &fails);
  return fails;
}

std::string DescribeEvaluation(const v1::Evaluation& ev) {
  std::string out = absl::StrCat(
      "  confidence: ", v1::ConfidenceLevel_Name(ev.confidence_level()),
      ev.confidence_reasons().empty() ? "" : " (",
      absl::StrJoin(ev.confidence_reasons(), "; "),
      ev.confidence_reasons().empty() ? "" : ")", "\n  ranked advice:\n");
  for (const auto& r : ev.recommendations()) {
    absl::StrAppend(&out, "    #", r.rank(), " ",
                    v1::Severity_Name(r.severity()).substr(9), " [",
                    r.rationale().rule_id(), "] ", r.id(), ": ", r.summary(),
                    "  tags{", absl::StrJoin(r.tags(), ","), "}\n");
  }
  for (const auto& s : ev.suppressed()) {
    absl::StrAppend(&out, "    suppressed ", s.recommendation().id(), ": ",
                    s.reason(), "\n");
  }
  for (const auto& p : ev.plugins()) {
    if (p.status() == v1::PLUGIN_RUN_STATUS_FAILED) {
      absl::StrAppend(&out, "    plugin ", p.plugin_id(),
                      " FAILED: ", p.error(), "\n");
    }
  }
  return out;
}

}  // namespace achilles::harness
