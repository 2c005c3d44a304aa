#include "cli/format.h"

#include <cstdio>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/connection.h"
#include "common/time_util.h"
#include "google/protobuf/util/json_util.h"

namespace achilles::cli {
namespace {

std::string ResponseText(const v1::LoadResponse& r) {
  std::vector<std::string> parts;
  if (r.has_pain_during())
    parts.push_back(absl::StrCat("during ", r.pain_during(), "/10"));
  if (r.has_pain_after())
    parts.push_back(absl::StrCat("after ", r.pain_after(), "/10"));
  if (r.has_pain_next_morning()) {
    parts.push_back(
        absl::StrCat("next morning ", r.pain_next_morning(), "/10"));
  }
  if (r.morning_vs_baseline() != v1::COMPARISON_UNSPECIFIED) {
    parts.push_back(absl::StrCat(
        "morning ",
        absl::AsciiStrToLower(
            v1::Comparison_Name(r.morning_vs_baseline()).substr(11))));
  }
  if (r.has_settle_time_hours()) {
    parts.push_back(absl::StrFormat("settled in %g h", r.settle_time_hours()));
  }
  if (r.has_limping() && r.limping()) parts.push_back("limping");
  return absl::StrJoin(parts, ", ");
}

}  // namespace

const char* CodeName(int code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN";
}

const char* SeverityName(v1::Severity s) {
  switch (s) {
    case v1::SEVERITY_CRITICAL:
      return "CRITICAL";
    case v1::SEVERITY_WARNING:
      return "WARNING";
    case v1::SEVERITY_INFO:
      return "info";
    default:
      return "?";
  }
}

std::string FormatPrescription(const v1::Prescription& p) {
  std::vector<std::string> parts;
  if (!p.exercise().empty()) parts.push_back(p.exercise());
  if (p.sets() > 0 && p.reps() > 0) {
    parts.push_back(p.reps_max() > 0 ? absl::StrCat(p.sets(), " x ", p.reps(),
                                                    "-", p.reps_max())
                                     : absl::StrCat(p.sets(), " x ", p.reps()));
  }
  if (p.hold_seconds() > 0) {
    parts.push_back(p.hold_seconds_max() > 0
                        ? absl::StrCat("hold ", p.hold_seconds(), "-",
                                       p.hold_seconds_max(), " s")
                        : absl::StrCat("hold ", p.hold_seconds(), " s"));
  }
  if (!p.tempo().empty()) parts.push_back(p.tempo());
  if (!p.load().empty()) parts.push_back(p.load());
  if (!p.frequency().empty()) parts.push_back(p.frequency());
  if (p.jog_seconds() > 0) {
    parts.push_back(absl::StrCat("jog ", p.jog_seconds(), " s / walk ",
                                 p.walk_seconds(), " s x ", p.intervals()));
  }
  if (p.total_minutes() > 0)
    parts.push_back(absl::StrCat(p.total_minutes(), " min"));
  if (p.weekly_distance_km_max() > 0) {
    parts.push_back(p.weekly_distance_km_min() > 0
                        ? absl::StrFormat("%g-%g km/week",
                                          p.weekly_distance_km_min(),
                                          p.weekly_distance_km_max())
                        : absl::StrFormat("at most %g km/week",
                                          p.weekly_distance_km_max()));
  }
  if (p.cadence_increase_pct_max() > 0) {
    parts.push_back(absl::StrCat("cadence +", p.cadence_increase_pct_min(), "-",
                                 p.cadence_increase_pct_max(), "%"));
  }
  if (p.heel_lift_mm_max() > 0) {
    parts.push_back(absl::StrFormat("heel lift %g-%g mm", p.heel_lift_mm_min(),
                                    p.heel_lift_mm_max()));
  }
  if (p.shoe_drop_mm_min() > 0) {
    parts.push_back(
        absl::StrFormat("shoe drop >= %g mm", p.shoe_drop_mm_min()));
  }
  if (p.duration_weeks() > 0)
    parts.push_back(absl::StrCat(p.duration_weeks(), " weeks"));
  if (!p.surface().empty()) parts.push_back(p.surface());
  return absl::StrJoin(parts, "; ");
}

namespace {

const char* ConfidenceWords(v1::ConfidenceLevel level) {
  switch (level) {
    case v1::CONFIDENCE_LEVEL_HIGH:
      return "high";
    case v1::CONFIDENCE_LEVEL_MODERATE:
      return "moderate";
    case v1::CONFIDENCE_LEVEL_LOW:
      return "LOW";
    default:
      return "not assessed";
  }
}

// What the clinician must know before reading the advice: an incomplete
// evaluation says so first, not after the last card.
std::string FormatConfidence(const v1::Evaluation& ev) {
  std::string out =
      absl::StrCat("Confidence: ", ConfidenceWords(ev.confidence_level()));
  if (!ev.completeness().complete()) absl::StrAppend(&out, " (INCOMPLETE)");
  absl::StrAppend(&out, "\n");
  for (const auto& reason : ev.confidence_reasons()) {
    absl::StrAppend(&out, "  ! ", reason, "\n");
  }
  return absl::StrCat(out, "\n");
}

const char* Producer(const v1::Recommendation& r) {
  switch (r.provenance()) {
    case v1::PROVENANCE_SAFETY_SCREEN:
      return "built-in safety screen";
    case v1::PROVENANCE_ENGINE_RULE:
      return "built-in rule";
    default:
      return nullptr;
  }
}

std::string FormatWhy(const v1::Rationale& ra) {
  std::string out = "    Why:\n";
  for (const auto& o : ra.observed()) {
    absl::StrAppend(&out, "      - ", o.label(), ": ", o.value());
    if (o.has_age_days()) absl::StrAppend(&out, " (", o.age_days(), " d ago)");
    if (!o.event_ids().empty()) {
      absl::StrAppend(&out, "  [events ", absl::StrJoin(o.event_ids(), ", "),
                      "]");
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "      Rule ", ra.rule_id(), ": ", ra.rule(), "\n");
  if (!ra.threshold().empty()) {
    absl::StrAppend(&out, "      Threshold: ", ra.threshold(), "\n");
  }
  if (!ra.policy().empty()) {
    absl::StrAppend(&out, "      Clinic policy: ", ra.policy(), "\n");
  }
  if (!ra.sources().empty()) {
    absl::StrAppend(&out, "      Source: ", absl::StrJoin(ra.sources(), ", "),
                    "\n");
  }
  return out;
}

std::string FormatRecommendation(const v1::Recommendation& r) {
  std::string out = absl::StrCat(
      "#", r.rank(), "  ", SeverityName(r.severity()), "  ", r.summary(), "\n");
  if (!r.detail().empty() && r.detail() != r.summary()) {
    absl::StrAppend(&out, "    ", r.detail(), "\n");
  }
  const std::string rx = FormatPrescription(r.prescription());
  if (!rx.empty()) absl::StrAppend(&out, "    Prescription: ", rx, "\n");
  absl::StrAppend(&out, FormatWhy(r.rationale()));
  const char* producer = Producer(r);
  absl::StrAppend(&out, "    From: ", producer ? producer : r.plugin_id(), " ",
                  r.plugin_version());
  if (r.confidence() < 1.0) {
    absl::StrAppendFormat(&out, "  (confidence %.0f%%: some data missing)",
                          100 * r.confidence());
  }
  absl::StrAppend(&out, "   id ", r.id(), "\n\n");
  return out;
}

std::string FormatPlugins(const v1::Evaluation& ev) {
  std::string out = "Plugins:";
  for (const auto& p : ev.plugins()) {
    absl::StrAppend(&out, "\n  ", p.plugin_id(), " ", p.plugin_version(), ": ");
    switch (p.status()) {
      case v1::PLUGIN_RUN_STATUS_OK:
        absl::StrAppend(&out, "ok");
        break;
      case v1::PLUGIN_RUN_STATUS_DISABLED:
        absl::StrAppend(&out, "disabled for this clinic");
        break;
      default:
        absl::StrAppend(&out, "FAILED: ", p.error());
    }
  }
  if (ev.plugins().empty()) {
    absl::StrAppend(&out, " none loaded (safety screen only)");
  }
  return absl::StrCat(out, "\n");
}

}  // namespace

std::string FormatEvaluation(const v1::Evaluation& ev) {
  std::string out = absl::StrCat(
      "Evaluation ", ev.evaluation_id(), " for patient ", ev.patient_id(),
      "\n  as of ", FormatMicros(ToMicros(ev.as_of())), ", ", ev.event_count(),
      " events, clinic policy v", ev.policy_version(), "\n\n");
  absl::StrAppend(&out, FormatConfidence(ev));
  if (ev.recommendations().empty()) {
    absl::StrAppend(&out, "No recommendations.\n");
  }
  for (const auto& r : ev.recommendations()) {
    absl::StrAppend(&out, FormatRecommendation(r));
  }
  if (!ev.suppressed().empty()) {
    absl::StrAppend(&out, "Held back by a contraindication:\n");
    for (const auto& s : ev.suppressed()) {
      absl::StrAppend(&out, "  - ", s.recommendation().summary(), "\n      ",
                      s.reason(), "\n");
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, FormatPlugins(ev));
  return out;
}

std::string FormatEventLine(const v1::Event& e) {
  std::string what;
  switch (e.kind_case()) {
    case v1::Event::kPainReport:
      what = absl::StrCat(
          "pain (",
          absl::AsciiStrToLower(v1::Activity_Name(e.pain_report().activity())),
          ") ", ResponseText(e.pain_report().response()));
      if (!e.pain_report().related_event_id().empty()) {
        absl::StrAppend(&what, " re ", e.pain_report().related_event_id());
      }
      break;
    case v1::Event::kMorningStiffness:
      what = absl::StrCat(
          "morning stiffness ",
          v1::Comparison_Name(e.morning_stiffness().vs_baseline()));
      break;
    case v1::Event::kRunSession: {
      const auto& r = e.run_session();
      what = r.distance_km() > 0
                 ? absl::StrFormat("run %g km %d min", r.distance_km(),
                                   r.duration_minutes())
                 : absl::StrFormat("run %d min", r.duration_minutes());
      if (r.ladder_level() > 0)
        absl::StrAppend(&what, " ladder L", r.ladder_level());
      absl::StrAppend(&what, " ", ResponseText(r.response()));
      break;
    }
    case v1::Event::kExerciseSession: {
      const auto& x = e.exercise_session();
      what = absl::StrCat("exercise ", v1::Exercise_Name(x.exercise()), " ",
                          x.sets(), "x", x.reps());
      if (x.programme_week() > 0)
        absl::StrAppend(&what, " week ", x.programme_week());
      absl::StrAppend(&what, " ", ResponseText(x.response()));
      break;
    }
    case v1::Event::kFinding:
      what = absl::StrCat("finding ", v1::Location_Name(e.finding().location()),
                          " ", v1::Stage_Name(e.finding().stage()));
      break;
    case v1::Event::kSymptomFlags:
      what = absl::StrCat("symptoms ", e.symptom_flags().ShortDebugString());
      break;
    case v1::Event::kFootwear:
      what = absl::StrCat("footwear ", e.footwear().ShortDebugString());
      break;
    case v1::Event::kQuestionnaire:
      what = absl::StrCat("VISA-A ", e.questionnaire().total_score());
      break;
    case v1::Event::kNote:
      what = absl::StrCat("note: ", e.note().text());
      break;
    case v1::Event::kTreatmentRequest:
      what = absl::StrCat(
          "treatment ", v1::Treatment_Name(e.treatment_request().treatment()));
      break;
    case v1::Event::kTrainingGoal:
      what = absl::StrFormat("goal %g km/week",
                             e.training_goal().target_weekly_distance_km());
      break;
    default:
      what = "?";
  }
  return absl::StrCat(FormatMicros(ToMicros(e.occurred_at())), "  ",
                      absl::StrFormat("%-14s", e.event_id()), "  ", what);
}

std::string FormatPlugins(const v1::ListPluginsResponse& resp) {
  std::string out =
      absl::StrFormat("%-18s %-8s %-5s %-9s %-8s %s\n", "PLUGIN", "VERSION",
                      "ABI", "STATE", "CLINIC", "FILE");
  for (const auto& p : resp.plugins()) {
    absl::StrAppendFormat(
        &out, "%-18s %-8s %-5s %-9s %-8s %s\n",
        p.plugin_id().empty() ? "-" : p.plugin_id(),
        p.version().empty() ? "-" : p.version(),
        p.abi_version().empty() ? "-" : p.abi_version(),
        p.state() == v1::PLUGIN_STATE_LOADED ? "loaded" : "REJECTED",
        p.state() != v1::PLUGIN_STATE_LOADED ? "-"
        : p.enabled_for_clinic()             ? "enabled"
                                             : "disabled",
        p.file());
    if (!p.reason().empty())
      absl::StrAppend(&out, "    reason: ", p.reason(), "\n");
  }
  return out;
}

std::string FormatPolicy(const v1::ClinicPolicy& p) {
  return absl::StrCat(
      "Policy version ", p.version(),
      p.version() == 0 ? " (built-in default)" : "",
      "\n  pain model:              ", v1::PainModel_Name(p.pain_model()),
      p.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5
          ? absl::StrCat(
                " (max ", p.silbernagel_max_ok(),
                p.silbernagel_strictly_below() ? ", strictly below" : "", ")")
          : "",
      "\n  strengthening programme: ",
      v1::StrengtheningProgramme_Name(p.strengthening_programme()),
      "\n  eccentric dose:          ",
      v1::EccentricDose_Name(p.eccentric_dose()),
      "\n  gentle stretch (mid):    ",
      p.allow_gentle_stretch_midportion() ? "allowed" : "off",
      "\n  disabled plugins:        ",
      p.disabled_plugins().empty() ? "none"
                                   : absl::StrJoin(p.disabled_plugins(), ", "),
      p.changed_by().empty()
          ? ""
          : absl::StrCat("\n  changed by:              ", p.changed_by()),
      p.change_reason().empty()
          ? ""
          : absl::StrCat("\n  reason:                  ", p.change_reason()),
      "\n");
}

std::string JsonLine(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

namespace {
// gRPC's words for a channel that never reached a server.
bool NeverConnected(const grpc::Status& st) {
  if (st.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  const std::string& m = st.error_message();
  for (const char* sign :
       {"failed to connect", "Connection refused", "DNS resolution failed",
        "Name resolution failure", "No route to host", "Socket closed",
        "Connection reset", "Ssl handshake failed",
        "connections to all "
        "backends failing"}) {
    if (m.find(sign) != std::string::npos) return true;
  }
  return false;
}
}  // namespace

int PrintRpcError(const grpc::Status& st) {
  std::fprintf(stderr, "error: %s: %s\n", CodeName(st.error_code()),
               st.error_message().c_str());
  if (NeverConnected(st)) {
    std::fprintf(stderr,
                 "hint: cannot reach the server at %s. Is achilles-server "
                 "running and listening there? Set the address with "
                 "--server or $ACHILLES_SERVER; a TLS server also needs "
                 "--tls_ca_file.\n",
                 ServerTarget().c_str());
    return kExitServerDown;
  }
  return 1;
}

bool ParseTimeArg(const std::string& text, absl::Time* t, std::string* err) {
  if (absl::ParseTime(absl::RFC3339_full, text, t, err)) return true;
  std::string date_err;
  if (text.size() == 10 &&
      absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), t, &date_err)) {
    return true;
  }
  *err = "'" + text +
         "' is neither an RFC 3339 time (2026-11-28T08:00:00Z) nor a date "
         "(2026-11-28)";
  return false;
}

int UsageError(const std::string& why) {
  std::fprintf(stderr, "achillesctl: %s (see achillesctl --help)\n",
               why.c_str());
  return 2;
}

}  // namespace achilles::cli
