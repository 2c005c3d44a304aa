#include "services/validation/validation.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"

namespace achilles::validation {
namespace {

using ::achilles::v1::Event;
using ::achilles::v1::LoadResponse;

absl::Status Bad(const std::string& field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

absl::Status Range(const std::string& field, double v, double lo, double hi) {
  if (v < lo || v > hi || v != v) {
    return Bad(field, absl::StrCat(v, " is outside ", lo, "-", hi));
  }
  return absl::OkStatus();
}

template <typename EnumValid>
absl::Status Enum(const std::string& field, int v, EnumValid valid) {
  if (!valid(v)) return Bad(field, absl::StrCat(v, " is not a known value"));
  return absl::OkStatus();
}

absl::Status Text(const std::string& field, const std::string& s,
                  size_t max_bytes) {
  if (s.size() > max_bytes) {
    return Bad(field, absl::StrCat("longer than ", max_bytes, " bytes"));
  }
  if (!IsValidUtf8(s)) return Bad(field, "is not valid UTF-8");
  return absl::OkStatus();
}

constexpr int kMaxDisabledPlugins = 64;

absl::Status CheckResponse(const std::string& f, const LoadResponse& r) {
  if (r.has_pain_during()) {
    ACH_RETURN_IF_ERROR(Range(f + ".pain_during", r.pain_during(), 0, 10));
  }
  if (r.has_pain_after()) {
    ACH_RETURN_IF_ERROR(Range(f + ".pain_after", r.pain_after(), 0, 10));
  }
  if (r.has_pain_next_morning()) {
    ACH_RETURN_IF_ERROR(
        Range(f + ".pain_next_morning", r.pain_next_morning(), 0, 10));
  }
  if (r.has_pain_before()) {
    ACH_RETURN_IF_ERROR(Range(f + ".pain_before", r.pain_before(), 0, 10));
  }
  ACH_RETURN_IF_ERROR(Enum(f + ".morning_vs_baseline", r.morning_vs_baseline(),
                           v1::Comparison_IsValid));
  if (r.has_settle_time_hours()) {
    ACH_RETURN_IF_ERROR(
        Range(f + ".settle_time_hours", r.settle_time_hours(), 0, 720));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateId(absl::string_view field, absl::string_view id) {
  const std::string f(field);
  if (id.empty()) return Bad(f, "is required");
  if (id.size() > 64) return Bad(f, "longer than 64 characters");
  for (char c : id) {
    if (!(absl::ascii_isalnum(c) || c == '.' || c == '_' || c == ':' ||
          c == '-')) {
      return Bad(f, absl::StrCat("'", absl::CHexEscape(id),
                                 "' has a character outside [A-Za-z0-9._:-]"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePatient(const v1::Patient& p) {
  ACH_RETURN_IF_ERROR(ValidateId("patient.patient_id", p.patient_id()));
  ACH_RETURN_IF_ERROR(Text("patient.display_name", p.display_name(), 256));
  if (p.birth_year() != 0) {
    ACH_RETURN_IF_ERROR(
        Range("patient.birth_year", p.birth_year(), 1900, 2100));
  }
  return absl::OkStatus();
}

absl::Status ValidateIdList(
    absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& ids, int max) {
  if (ids.size() > max) {
    return Bad(std::string(field),
               absl::StrCat(ids.size(), " ids; at most ", max));
  }
  absl::flat_hash_map<absl::string_view, int> first;  // id -> index
  for (int i = 0; i < ids.size(); ++i) {
    const std::string at = absl::StrCat(field, "[", i, "]");
    ACH_RETURN_IF_ERROR(ValidateId(at, ids[i]));
    auto [it, inserted] = first.try_emplace(ids[i], i);
    if (!inserted) {
      return Bad(at, absl::StrCat("'", ids[i], "' repeats ", field, "[",
                                  it->second, "]"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateTimestamp(const std::string& field,
                               const google::protobuf::Timestamp& ts) {
  if (ts.nanos() < 0 || ts.nanos() > 999999999) {
    return Bad(field, "nanos outside 0-999999999");
  }
  if (ts.seconds() < -2208988800LL || ts.seconds() > 7258118400LL) {
    return Bad(field, "is not a plausible date (1900-2200)");
  }
  return absl::OkStatus();
}

absl::Status ValidatePastTimestamp(const std::string& field,
                                   const google::protobuf::Timestamp& ts,
                                   int64_t now_us) {
  ACH_RETURN_IF_ERROR(ValidateTimestamp(field, ts));
  if (ToMicros(ts) > now_us + kClockSkewMicros) {
    return Bad(field,
               absl::StrCat("is in the future (", FormatMicros(ToMicros(ts)),
                            "); only what has happened can be used"));
  }
  return absl::OkStatus();
}

namespace {

// One check per event kind; `f` names the event ("events[3]").
absl::Status CheckPainReport(const std::string& f, const Event& e) {
  const auto& pr = e.pain_report();
  ACH_RETURN_IF_ERROR(
      Enum(f + ".pain_report.activity", pr.activity(), v1::Activity_IsValid));
  ACH_RETURN_IF_ERROR(
      CheckResponse(f + ".pain_report.response", pr.response()));
  if (!pr.related_event_id().empty()) {
    ACH_RETURN_IF_ERROR(
        ValidateId(f + ".pain_report.related_event_id", pr.related_event_id()));
  }
  return absl::OkStatus();
}

absl::Status CheckMorningStiffness(const std::string& f, const Event& e) {
  const auto& m = e.morning_stiffness();
  ACH_RETURN_IF_ERROR(Enum(f + ".morning_stiffness.vs_baseline",
                           m.vs_baseline(), v1::Comparison_IsValid));
  if (m.has_minutes()) {
    ACH_RETURN_IF_ERROR(
        Range(f + ".morning_stiffness.minutes", m.minutes(), 0, 1440));
  }
  if (m.has_severity()) {
    ACH_RETURN_IF_ERROR(
        Range(f + ".morning_stiffness.severity", m.severity(), 0, 10));
  }
  return absl::OkStatus();
}

absl::Status CheckRunSession(const std::string& f, const Event& e) {
  const auto& r = e.run_session();
  const std::string g = f + ".run_session";
  ACH_RETURN_IF_ERROR(
      Range(g + ".duration_minutes", r.duration_minutes(), 1, 600));
  ACH_RETURN_IF_ERROR(Range(g + ".distance_km", r.distance_km(), 0, 200));
  ACH_RETURN_IF_ERROR(Range(g + ".jog_seconds", r.jog_seconds(), 0, 7200));
  ACH_RETURN_IF_ERROR(Range(g + ".walk_seconds", r.walk_seconds(), 0, 7200));
  ACH_RETURN_IF_ERROR(Range(g + ".intervals", r.intervals(), 0, 100));
  ACH_RETURN_IF_ERROR(Range(g + ".ladder_level", r.ladder_level(), 0, 5));
  if (r.cadence_spm() != 0) {
    ACH_RETURN_IF_ERROR(Range(g + ".cadence_spm", r.cadence_spm(), 60, 260));
  }
  ACH_RETURN_IF_ERROR(Enum(g + ".terrain", r.terrain(), v1::Terrain_IsValid));
  ACH_RETURN_IF_ERROR(
      Enum(g + ".intensity", r.intensity(), v1::Intensity_IsValid));
  ACH_RETURN_IF_ERROR(
      Enum(g + ".foot_strike", r.foot_strike(), v1::FootStrike_IsValid));
  ACH_RETURN_IF_ERROR(CheckResponse(g + ".response", r.response()));
  return absl::OkStatus();
}

absl::Status CheckExerciseSession(const std::string& f, const Event& e) {
  const auto& x = e.exercise_session();
  const std::string g = f + ".exercise_session";
  ACH_RETURN_IF_ERROR(
      Enum(g + ".exercise", x.exercise(), v1::Exercise_IsValid));
  ACH_RETURN_IF_ERROR(
      Enum(g + ".programme", x.programme(), v1::Programme_IsValid));
  ACH_RETURN_IF_ERROR(Range(g + ".sets", x.sets(), 0, 20));
  ACH_RETURN_IF_ERROR(Range(g + ".reps", x.reps(), 0, 100));
  ACH_RETURN_IF_ERROR(Range(g + ".rm", x.rm(), 0, 100));
  ACH_RETURN_IF_ERROR(Range(g + ".load_kg", x.load_kg(), 0, 500));
  ACH_RETURN_IF_ERROR(Range(g + ".hold_seconds", x.hold_seconds(), 0, 600));
  ACH_RETURN_IF_ERROR(
      Range(g + ".eccentric_seconds", x.eccentric_seconds(), 0, 60));
  ACH_RETURN_IF_ERROR(
      Range(g + ".concentric_seconds", x.concentric_seconds(), 0, 60));
  ACH_RETURN_IF_ERROR(Range(g + ".programme_week", x.programme_week(), 0, 52));
  ACH_RETURN_IF_ERROR(CheckResponse(g + ".response", x.response()));
  return absl::OkStatus();
}

absl::Status CheckFinding(const std::string& f, const Event& e) {
  const auto& fd = e.finding();
  ACH_RETURN_IF_ERROR(
      Enum(f + ".finding.location", fd.location(), v1::Location_IsValid));
  ACH_RETURN_IF_ERROR(
      Enum(f + ".finding.stage", fd.stage(), v1::Stage_IsValid));
  if (fd.has_single_leg_heel_raise_pain()) {
    ACH_RETURN_IF_ERROR(Range(f + ".finding.single_leg_heel_raise_pain",
                              fd.single_leg_heel_raise_pain(), 0, 10));
  }
  if (fd.has_knee_to_wall_cm()) {
    ACH_RETURN_IF_ERROR(
        Range(f + ".finding.knee_to_wall_cm", fd.knee_to_wall_cm(), 0, 30));
  }
  return absl::OkStatus();
}

absl::Status CheckFootwear(const std::string& f, const Event& e) {
  const auto& fw = e.footwear();
  if (fw.has_heel_drop_mm()) {
    ACH_RETURN_IF_ERROR(
        Range(f + ".footwear.heel_drop_mm", fw.heel_drop_mm(), 0, 30));
  }
  if (fw.has_heel_lift_mm()) {
    ACH_RETURN_IF_ERROR(
        Range(f + ".footwear.heel_lift_mm", fw.heel_lift_mm(), 0, 30));
  }
  return absl::OkStatus();
}

absl::Status CheckQuestionnaire(const std::string& f, const Event& e) {
  const auto& q = e.questionnaire();
  ACH_RETURN_IF_ERROR(
      Enum(f + ".questionnaire.kind", q.kind(), v1::QuestionnaireKind_IsValid));
  if (q.kind() == v1::QUESTIONNAIRE_KIND_UNSPECIFIED) {
    return Bad(f + ".questionnaire.kind", "is required");
  }
  ACH_RETURN_IF_ERROR(
      Range(f + ".questionnaire.total_score", q.total_score(), 0, 100));
  if (q.item_scores_size() > 0) {
    if (q.item_scores_size() != 8) {
      return Bad(f + ".questionnaire.item_scores",
                 "VISA-A has 8 items when items are given");
    }
    int sum = 0;
    for (int i = 0; i < 8; ++i) {
      ACH_RETURN_IF_ERROR(
          Range(absl::StrCat(f, ".questionnaire.item_scores[", i, "]"),
                q.item_scores(i), 0, i == 7 ? 30 : 10));
      sum += q.item_scores(i);
    }
    if (sum != q.total_score()) {
      return Bad(f + ".questionnaire.total_score",
                 absl::StrCat(q.total_score(),
                              " is not the sum of the "
                              "item scores (",
                              sum, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNote(const std::string& f, const Event& e) {
  ACH_RETURN_IF_ERROR(Text(f + ".note.text", e.note().text(), 4096));
  return absl::OkStatus();
}

absl::Status CheckTreatmentRequest(const std::string& f, const Event& e) {
  ACH_RETURN_IF_ERROR(Enum(f + ".treatment_request.treatment",
                           e.treatment_request().treatment(),
                           v1::Treatment_IsValid));
  if (e.treatment_request().treatment() == v1::TREATMENT_UNSPECIFIED) {
    return Bad(f + ".treatment_request.treatment", "is required");
  }
  return absl::OkStatus();
}

absl::Status CheckTrainingGoal(const std::string& f, const Event& e) {
  ACH_RETURN_IF_ERROR(Range(f + ".training_goal.target_weekly_distance_km",
                            e.training_goal().target_weekly_distance_km(), 0,
                            500));
  if (e.training_goal().has_race_date()) {
    ACH_RETURN_IF_ERROR(ValidateTimestamp(f + ".training_goal.race_date",
                                          e.training_goal().race_date()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateEvent(const std::string& f, const Event& e,
                           int64_t now_us) {
  ACH_RETURN_IF_ERROR(ValidateId(f + ".event_id", e.event_id()));
  if (!e.has_occurred_at()) return Bad(f + ".occurred_at", "is required");
  const auto& ts = e.occurred_at();
  ACH_RETURN_IF_ERROR(ValidateTimestamp(f + ".occurred_at", ts));
  if (ToMicros(ts) > now_us + kClockSkewMicros) {
    return Bad(f + ".occurred_at",
               absl::StrCat("is in the future (", FormatMicros(ToMicros(ts)),
                            "); events must have happened already"));
  }
  switch (e.kind_case()) {
    case Event::KIND_NOT_SET:
      return Bad(f, "no event kind set (pain_report, run_session, ...)");
    case Event::kPainReport:
      return CheckPainReport(f, e);
    case Event::kMorningStiffness:
      return CheckMorningStiffness(f, e);
    case Event::kRunSession:
      return CheckRunSession(f, e);
    case Event::kExerciseSession:
      return CheckExerciseSession(f, e);
    case Event::kFinding:
      return CheckFinding(f, e);
    case Event::kSymptomFlags:
      return absl::OkStatus();
    case Event::kFootwear:
      return CheckFootwear(f, e);
    case Event::kQuestionnaire:
      return CheckQuestionnaire(f, e);
    case Event::kNote:
      return CheckNote(f, e);
    case Event::kTreatmentRequest:
      return CheckTreatmentRequest(f, e);
    case Event::kTrainingGoal:
      return CheckTrainingGoal(f, e);
  }
  return absl::OkStatus();
}

namespace {

// Either container of events: the harness holds a vector, a request a
// RepeatedPtrField.
template <typename Events>
absl::Status CheckEventBatch(const Events& events, int64_t now_us) {
  if (events.empty()) {
    return absl::InvalidArgumentError("events: at least one event is required");
  }
  if (static_cast<int64_t>(events.size()) > kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("events: ", events.size(),
                     " events exceed the batch limit of ", kMaxBatch));
  }
  for (int i = 0; i < static_cast<int>(events.size()); ++i) {
    ACH_RETURN_IF_ERROR(
        ValidateEvent(absl::StrCat("events[", i, "]"), events[i], now_us));
  }
  // Byte comparison, as the store compares a retried event with the stored
  // one: the same id twice is fine only when it is the same event.
  absl::flat_hash_map<absl::string_view, std::string> seen;  // id -> bytes
  for (const Event& e : events) {
    std::string bytes = e.SerializeAsString();
    auto it = seen.find(e.event_id());
    if (it == seen.end()) {
      seen.emplace(e.event_id(), std::move(bytes));
    } else if (it->second != bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("events: event_id '", e.event_id(),
                       "' appears twice in the batch with different content"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateEventBatch(const std::vector<Event>& events,
                                int64_t now_us) {
  return CheckEventBatch(events, now_us);
}

absl::Status ValidateEventBatch(
    const google::protobuf::RepeatedPtrField<Event>& events, int64_t now_us) {
  return CheckEventBatch(events, now_us);
}

absl::Status ValidatePolicy(const v1::ClinicPolicy& p) {
  ACH_RETURN_IF_ERROR(
      Enum("policy.pain_model", p.pain_model(), v1::PainModel_IsValid));
  if (p.silbernagel_max_ok() != 0) {
    ACH_RETURN_IF_ERROR(
        Range("policy.silbernagel_max_ok", p.silbernagel_max_ok(), 1, 10));
  }
  ACH_RETURN_IF_ERROR(Enum("policy.strengthening_programme",
                           p.strengthening_programme(),
                           v1::StrengtheningProgramme_IsValid));
  ACH_RETURN_IF_ERROR(Enum("policy.eccentric_dose", p.eccentric_dose(),
                           v1::EccentricDose_IsValid));
  // 0 means the default (docs/clinical/POLICY_SIGNOFF.md).
  if (p.recency_window_days() != 0) {
    ACH_RETURN_IF_ERROR(
        Range("policy.recency_window_days", p.recency_window_days(), 1, 90));
  }
  if (p.trend_weeks() != 0) {
    ACH_RETURN_IF_ERROR(Range("policy.trend_weeks", p.trend_weeks(), 2, 4));
  }
  // Every evaluation embeds the policy: bound it like any other input.
  if (p.disabled_plugins_size() > kMaxDisabledPlugins) {
    return Bad("policy.disabled_plugins",
               absl::StrCat(p.disabled_plugins_size(), " entries; at most ",
                            kMaxDisabledPlugins));
  }
  for (int i = 0; i < p.disabled_plugins_size(); ++i) {
    const std::string& id = p.disabled_plugins(i);
    if (id.empty() || id.size() > 64 ||
        id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.-") !=
            std::string::npos) {
      return Bad(absl::StrCat("policy.disabled_plugins[", i, "]"),
                 "must be a plugin id: 1-64 chars of [a-z0-9_.-]");
    }
  }
  ACH_RETURN_IF_ERROR(
      Text("policy.visa_a_loinc_code", p.visa_a_loinc_code(), 32));
  ACH_RETURN_IF_ERROR(
      ValidatePolicyAuthor("policy.changed_by", p.changed_by()));
  ACH_RETURN_IF_ERROR(Text("policy.change_reason", p.change_reason(), 2048));
  if (p.change_reason().find('\0') != std::string::npos) {
    return Bad("policy.change_reason", "contains a NUL byte");
  }
  return absl::OkStatus();
}

absl::Status ValidatePolicyAuthor(const std::string& field,
                                  const std::string& author) {
  ACH_RETURN_IF_ERROR(Text(field, author, 128));
  for (unsigned char c : author) {
    if (c < 0x20 || c == 0x7f) {
      return Bad(field, "contains a control character");
    }
  }
  return absl::OkStatus();
}

}  // namespace achilles::validation
