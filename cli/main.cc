// achillesctl: command-line client for achilles-cds.
//
//   achillesctl [--server=HOST:PORT] [--clinic=ID] [--json] COMMAND ARGS...
//
// Human-readable output by default, protobuf JSON with --json. Exit status 0
// on success, 1 on a server error (message on stderr), 2 on a usage error.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "achilles/v1/admin_service.grpc.pb.h"
#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "cli/backup_commands.h"
#include "cli/caseload_commands.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "cli/ehr_commands.h"
#include "cli/format.h"
#include "cli/health_command.h"
#include "cli/security_commands.h"
#include "common/time_util.h"
#include "google/protobuf/util/json_util.h"

ABSL_FLAG(bool, json, false, "print protobuf JSON instead of tables");
ABSL_FLAG(std::string, name, "", "patient upsert: display name");
ABSL_FLAG(int, birth_year, 0, "patient upsert: birth year");
ABSL_FLAG(std::string, as_of, "",
          "evaluate/events: RFC 3339 time, e.g. 2026-11-28T08:00:00Z");
ABSL_FLAG(bool, dry_run, false, "evaluate/caseload: do not store the result");
ABSL_FLAG(std::string, from, "", "events list: RFC 3339 start (inclusive)");
ABSL_FLAG(std::string, to, "", "events list: RFC 3339 end (exclusive)");
ABSL_FLAG(std::string, id, "", "events add: event id");
ABSL_FLAG(std::string, at, "", "events add: when it happened (RFC 3339; now)");
ABSL_FLAG(std::string, activity, "running", "events add: pain activity");
ABSL_FLAG(int, during, -1, "events add: pain during (0-10)");
ABSL_FLAG(int, after, -1, "events add: pain after (0-10)");
ABSL_FLAG(int, next_morning, -1, "events add: pain next morning (0-10)");
ABSL_FLAG(std::string, note, "", "events add: free-text note");
ABSL_FLAG(std::string, reason, "", "feedback/policy: reason");
ABSL_FLAG(std::string, clinician, "", "feedback: who decided");
ABSL_FLAG(std::string, changed_by, "",
          "policy set: who made the change (recorded in the policy version)");
ABSL_FLAG(int64_t, version, 0, "policy get: version (0 = current)");
ABSL_FLAG(std::string, pain_model, "",
          "policy set: TRAFFIC_LIGHT_3_5 or SILBERNAGEL_5");
ABSL_FLAG(int, max_ok, 0, "policy set: Silbernagel acceptable pain limit");
ABSL_FLAG(bool, strictly_below, false,
          "policy set: Silbernagel pain must stay below max_ok");
ABSL_FLAG(std::string, file, "", "policy set: JSON ClinicPolicy file");

namespace {

namespace v1 = achilles::v1;
using google::protobuf::util::JsonPrintOptions;

constexpr char kUsage[] = R"(achillesctl: command-line client for achilles-cds

Usage: achillesctl [--server=HOST:PORT] [--token_file=F] [--json] COMMAND ...

Dates: RFC 3339 (2026-11-28T08:00:00Z) or YYYY-MM-DD (midnight UTC).
Exit status: 0 ok, 1 the server refused or failed, 2 usage, 3 server not
reachable. The server address: --server, else $ACHILLES_SERVER.

Every call needs a token (--token_file=F, --token=T, $ACHILLES_TOKEN_FILE or
$ACHILLES_TOKEN). A new server writes an operator token to
<data_dir>/operator.token; issue the others with `token issue`.
TLS: --tls_ca_file=CA.pem [--tls_cert_file=C --tls_key_file=K for mutual TLS].

Patients and timelines
  patient upsert ID [--name=N] [--birth_year=Y]
  patient get ID
  patient delete ID                 erase the patient and all their data
  patient list
  events append ID FILE.json        FILE: {"events": [Event, ...]} (protobuf JSON)
  events add ID --id=EV [--at=TIME] (--during=N [--after=N] [--next_morning=N]
             [--activity=running] | --note=TEXT)
  events list ID [--from=TIME] [--to=TIME]
  import fhir BUNDLE.json           FHIR R4 Bundle; its events all or nothing (docs/EHR.md)
  export fhir ID                    the timeline as a FHIR Bundle on stdout;
                                    events without a mapping counted on stderr

Decisions
  evaluate ID [--as_of=TIME] [--dry_run]
  report ID --html=FILE             evaluate; write the clinician report (chart)
  evaluation get ID EVALUATION_ID
  feedback ID EVALUATION_ID RECOMMENDATION_ID accept|override
           --clinician=NAME [--reason=TEXT]

Administration
  plugins list | reload | enable PLUGIN | disable PLUGIN
  policy get [--version=N]
  backup create [--keep=N]          incremental backup (server side, online)
  backup list|verify --backup_dir=D [--backup_id=N]
                                    on the server's host
  backup restore --backup_dir=D --data_dir=NEW [--backup_id=N]
                                    server stopped; re-applies erasures
  backup NAME                       online checkpoint into the server's --backup_dir
  policy set (--file=POLICY.json | --pain_model=M [--max_ok=N] [--strictly_below])
             [--reason=TEXT] [--changed_by=WHO]

Operations
  health [SERVICE]                  exit 0 when the server is SERVING (no token
                                    needed; for probes)

Access (operator token)
  token issue --subject=WHO (--clinic=ID --roles=ehr,clinician,clinic-admin |
              --roles=operator) [--valid_days=N] [--bound_cert_cn=CN]
                                    prints the token once
  token list
  token revoke CREDENTIAL_ID
  audit list [--from_seq=N] [--limit=N] [--patient=ID --clinic=ID]
  audit export FILE.jsonl           the whole trail, one JSON entry per line
  audit verify                      recompute the tamper-evident chain

Caseload
  caseload reevaluate [--dry_run [--pain_model=M [--max_ok=N] [--strictly_below]]]
                      [--patients=a,b | --since=TIME | --plugin=ID]
                      [--as_of=TIME] [--resume=RUN_ID]
  caseload fanout CHAIN_FILE [--dry_run] [--fanout_parallel=4]
                                    re-evaluate many clinics, each on its shard;
                                    CHAIN_FILE: "CLINIC SERVER TOKEN_FILE" lines
  caseload worklist [--page_size=50] [--page_token=T]
                                    patients in triage order, a page at a time
  caseload seed-demo [--count=1000] [--events_per_patient=30]
                                    fill the clinic with a synthetic caseload
)";

int Usage(const std::string& why) {
  std::fprintf(stderr, "achillesctl: %s\n\n%s", why.c_str(), kUsage);
  return 2;
}

int Fail(const grpc::Status& st) { return achilles::cli::PrintRpcError(st); }

bool ParseTime(const std::string& text, google::protobuf::Timestamp* ts,
               std::string* err) {
  absl::Time t;
  if (!achilles::cli::ParseTimeArg(text, &t, err)) return false;
  *ts = achilles::FromMicros(absl::ToUnixMicros(t));
  return true;
}

void PrintJson(const google::protobuf::Message& m) {
  std::string out;
  JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  google::protobuf::util::MessageToJsonString(m, &out, o);
  std::cout << out;
}

class Ctl {
 public:
  explicit Ctl(std::shared_ptr<grpc::Channel> ch)
      : channel_(ch),
        patients_(v1::PatientService::NewStub(ch)),
        decisions_(v1::DecisionService::NewStub(ch)),
        plugins_(v1::PluginService::NewStub(ch)),
        policies_(v1::PolicyService::NewStub(ch)),
        store_(v1::StoreService::NewStub(ch)) {}

  std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    achilles::cli::Decorate(ctx.get());
    return ctx;
  }

  int Run(const std::vector<std::string>& a) {
    const bool json = absl::GetFlag(FLAGS_json);
    auto need = [&](size_t n) { return a.size() >= n; };
    const std::string cmd = a[0];
    const std::string sub = a.size() > 1 ? a[1] : "";
    // One method per command; the dispatch says which arguments each needs.
    if (cmd == "patient" && sub == "upsert" && need(3)) {
      return PatientUpsert(a, json);
    }
    if (cmd == "patient" && sub == "get" && need(3)) {
      return PatientGet(a, json);
    }
    if (cmd == "patient" && sub == "delete" && need(3)) {
      return PatientDelete(a, json);
    }
    if (cmd == "patient" && sub == "list") return ListPatients(json);
    if (cmd == "events" && sub == "append" && need(4)) {
      return EventsAppend(a, json);
    }
    if (cmd == "events" && sub == "add" && need(3)) {
      return EventsAdd(a, json);
    }
    if (cmd == "events" && sub == "list" && need(3)) {
      return EventsList(a, json);
    }
    if (cmd == "evaluate" && need(2)) {
      return Evaluate(a, json);
    }
    if (cmd == "evaluation" && sub == "get" && need(4)) {
      return EvaluationGet(a, json);
    }
    if (cmd == "feedback" && need(5)) {
      return Feedback(a, json);
    }
    if (cmd == "plugins" && (sub == "list" || sub.empty())) {
      return PluginsList(a, json);
    }
    if (cmd == "plugins" && sub == "reload") {
      return PluginsReload(a, json);
    }
    if (cmd == "plugins" && (sub == "enable" || sub == "disable") && need(3)) {
      return PluginsEnable(a, json);
    }
    if (cmd == "policy" && (sub == "get" || sub.empty())) {
      return PolicyGet(a, json);
    }
    if (cmd == "policy" && sub == "set") {
      return PolicySet(a, json);
    }
    if (cmd == "backup" && (sub == "create" || sub == "list" ||
                            sub == "verify" || sub == "restore")) {
      return achilles::cli::RunBackup(channel_, a, json);
    }
    if (cmd == "backup" && need(2)) {
      return Checkpoint(a, json);
    }
    if (cmd == "health") return achilles::cli::RunHealth(channel_, a);
    if (cmd == "caseload") {
      return achilles::cli::RunCaseload(channel_, a, json);
    }
    if (cmd == "import" || cmd == "export" || cmd == "report") {
      return achilles::cli::RunEhr(channel_, a, json);
    }
    if (cmd == "token" || cmd == "audit") {
      return achilles::cli::RunSecurity(channel_, a, json);
    }
    return Usage("unknown or incomplete command");
  }

 private:
  int PatientUpsert(const std::vector<std::string>& a, bool json) {
    v1::UpsertPatientRequest req;
    v1::UpsertPatientResponse resp;
    req.mutable_patient()->set_patient_id(a[2]);
    req.mutable_patient()->set_display_name(absl::GetFlag(FLAGS_name));
    req.mutable_patient()->set_birth_year(absl::GetFlag(FLAGS_birth_year));
    auto st = patients_->UpsertPatient(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << (resp.created() ? "created" : "updated") << " patient "
              << resp.patient().patient_id() << "\n";
    return 0;
  }

  int PatientGet(const std::vector<std::string>& a, bool json) {
    v1::GetPatientRequest req;
    v1::GetPatientResponse resp;
    req.set_patient_id(a[2]);
    auto st = patients_->GetPatient(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    const auto& p = resp.patient();
    std::cout << "patient " << p.patient_id()
              << (p.display_name().empty() ? "" : " (" + p.display_name() + ")")
              << "\n  events: " << resp.event_count() << "\n  created: "
              << achilles::FormatMicros(achilles::ToMicros(p.created_at()))
              << "\n  updated: "
              << achilles::FormatMicros(achilles::ToMicros(p.updated_at()))
              << "\n";
    return 0;
  }

  int PatientDelete(const std::vector<std::string>& a, bool json) {
    v1::DeletePatientRequest req;
    v1::DeletePatientResponse resp;
    req.set_patient_id(a[2]);
    auto st = patients_->DeletePatient(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << "erased patient " << a[2] << ": " << resp.events_deleted()
              << " events, " << resp.evaluations_deleted() << " evaluations\n";
    return 0;
  }

  int EventsAppend(const std::vector<std::string>& a, bool json) {
    std::ifstream in(a[3]);
    if (!in) return Usage("cannot read " + a[3]);
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    v1::AppendEventsRequest req;
    auto parsed = google::protobuf::util::JsonStringToMessage(text, &req);
    if (!parsed.ok()) {
      std::fprintf(stderr,
                   "error: %s is not an AppendEventsRequest in "
                   "protobuf JSON: %s\n",
                   a[3].c_str(), parsed.ToString().c_str());
      return 2;
    }
    req.set_patient_id(a[2]);
    return Append(req, json);
  }

  int EventsAdd(const std::vector<std::string>& a, bool json) {
    v1::AppendEventsRequest req;
    req.set_patient_id(a[2]);
    auto* e = req.add_events();
    e->set_event_id(absl::GetFlag(FLAGS_id));
    if (absl::GetFlag(FLAGS_at).empty()) {
      *e->mutable_occurred_at() = achilles::FromMicros(achilles::NowMicros());
    } else {
      std::string err;
      if (!ParseTime(absl::GetFlag(FLAGS_at), e->mutable_occurred_at(), &err)) {
        return Usage("--at: " + err);
      }
    }
    if (!absl::GetFlag(FLAGS_note).empty()) {
      e->mutable_note()->set_text(absl::GetFlag(FLAGS_note));
    } else if (absl::GetFlag(FLAGS_during) >= 0 ||
               absl::GetFlag(FLAGS_after) >= 0 ||
               absl::GetFlag(FLAGS_next_morning) >= 0) {
      auto* pr = e->mutable_pain_report();
      v1::Activity act;
      std::string name = "ACTIVITY_" + absl::GetFlag(FLAGS_activity);
      for (auto& c : name) c = std::toupper(static_cast<unsigned char>(c));
      if (!v1::Activity_Parse(name, &act)) {
        return Usage("--activity: unknown activity '" +
                     absl::GetFlag(FLAGS_activity) + "'");
      }
      pr->set_activity(act);
      if (absl::GetFlag(FLAGS_during) >= 0) {
        pr->mutable_response()->set_pain_during(absl::GetFlag(FLAGS_during));
      }
      if (absl::GetFlag(FLAGS_after) >= 0) {
        pr->mutable_response()->set_pain_after(absl::GetFlag(FLAGS_after));
      }
      if (absl::GetFlag(FLAGS_next_morning) >= 0) {
        pr->mutable_response()->set_pain_next_morning(
            absl::GetFlag(FLAGS_next_morning));
      }
    } else {
      return Usage(
          "events add needs --during/--after/--next_morning or --note");
    }
    return Append(req, json);
  }

  int EventsList(const std::vector<std::string>& a, bool json) {
    v1::ListEventsRequest req;
    req.set_patient_id(a[2]);
    req.set_page_size(1000);
    std::string err;
    if (!absl::GetFlag(FLAGS_from).empty() &&
        !ParseTime(absl::GetFlag(FLAGS_from), req.mutable_from(), &err)) {
      return Usage("--from: " + err);
    }
    if (!absl::GetFlag(FLAGS_to).empty() &&
        !ParseTime(absl::GetFlag(FLAGS_to), req.mutable_to(), &err)) {
      return Usage("--to: " + err);
    }
    for (;;) {
      v1::ListEventsResponse resp;
      auto st = patients_->ListEvents(Context().get(), req, &resp);
      if (!st.ok()) return Fail(st);
      if (json) {
        PrintJson(resp);
      } else {
        for (const auto& e : resp.events()) {
          std::cout << achilles::cli::FormatEventLine(e) << "\n";
        }
      }
      if (resp.next_page_token().empty()) return 0;
      req.set_page_token(resp.next_page_token());
    }
  }

  int Evaluate(const std::vector<std::string>& a, bool json) {
    v1::EvaluateRequest req;
    v1::EvaluateResponse resp;
    req.set_patient_id(a[1]);
    req.set_dry_run(absl::GetFlag(FLAGS_dry_run));
    std::string err;
    if (!absl::GetFlag(FLAGS_as_of).empty() &&
        !ParseTime(absl::GetFlag(FLAGS_as_of), req.mutable_as_of(), &err)) {
      return Usage("--as_of: " + err);
    }
    auto st = decisions_->Evaluate(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << achilles::cli::FormatEvaluation(resp.evaluation());
    return 0;
  }

  int EvaluationGet(const std::vector<std::string>& a, bool json) {
    v1::GetEvaluationRequest req;
    v1::GetEvaluationResponse resp;
    req.set_patient_id(a[2]);
    req.set_evaluation_id(a[3]);
    auto st = decisions_->GetEvaluation(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << achilles::cli::FormatEvaluation(resp.evaluation());
    return 0;
  }

  int Feedback(const std::vector<std::string>& a, bool json) {
    v1::RecordFeedbackRequest req;
    v1::RecordFeedbackResponse resp;
    req.set_patient_id(a[1]);
    req.set_evaluation_id(a[2]);
    req.set_recommendation_id(a[3]);
    const std::string decision = a.size() > 4 ? a[4] : "";
    if (decision == "accept") {
      req.set_decision(v1::FEEDBACK_DECISION_ACCEPTED);
    } else if (decision == "override") {
      req.set_decision(v1::FEEDBACK_DECISION_OVERRIDDEN);
    } else {
      return Usage("feedback: decision must be 'accept' or 'override'");
    }
    req.set_reason(absl::GetFlag(FLAGS_reason));
    req.set_clinician(absl::GetFlag(FLAGS_clinician));
    auto st = decisions_->RecordFeedback(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << "recorded feedback " << resp.feedback_id() << "\n";
    return 0;
  }

  int PluginsList(const std::vector<std::string>& a, bool json) {
    v1::ListPluginsRequest req;
    v1::ListPluginsResponse resp;
    auto st = plugins_->ListPlugins(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << achilles::cli::FormatPlugins(resp);
    return 0;
  }

  int PluginsReload(const std::vector<std::string>& a, bool json) {
    v1::ReloadPluginsRequest req;
    v1::ReloadPluginsResponse resp;
    auto st = plugins_->ReloadPlugins(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << "added: " << resp.added_size()
              << ", changed: " << resp.changed_size()
              << ", removed: " << resp.removed_size() << "\n";
    v1::ListPluginsResponse list;
    *list.mutable_plugins() = resp.plugins();
    std::cout << achilles::cli::FormatPlugins(list);
    return 0;
  }

  int PluginsEnable(const std::vector<std::string>& a, bool json) {
    const std::string& sub = a[1];
    v1::SetPluginEnabledRequest req;
    v1::SetPluginEnabledResponse resp;
    req.set_plugin_id(a[2]);
    req.set_changed_by(absl::GetFlag(FLAGS_clinician));
    auto st = sub == "enable"
                  ? plugins_->EnablePlugin(Context().get(), req, &resp)
                  : plugins_->DisablePlugin(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << sub << "d " << a[2] << " for clinic "
              << absl::GetFlag(FLAGS_clinic) << "\n"
              << achilles::cli::FormatPolicy(resp.policy());
    return 0;
  }

  int PolicyGet(const std::vector<std::string>& a, bool json) {
    v1::GetPolicyRequest req;
    v1::GetPolicyResponse resp;
    req.set_version(absl::GetFlag(FLAGS_version));
    auto st = policies_->GetPolicy(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << achilles::cli::FormatPolicy(resp.policy());
    return 0;
  }

  int PolicySet(const std::vector<std::string>& a, bool json) {
    v1::SetPolicyRequest req;
    v1::SetPolicyResponse resp;
    if (!absl::GetFlag(FLAGS_file).empty()) {
      std::ifstream in(absl::GetFlag(FLAGS_file));
      if (!in) return Usage("cannot read " + absl::GetFlag(FLAGS_file));
      std::string text((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
      auto parsed = google::protobuf::util::JsonStringToMessage(
          text, req.mutable_policy());
      if (!parsed.ok()) {
        std::fprintf(stderr, "error: not a ClinicPolicy in protobuf JSON: %s\n",
                     parsed.ToString().c_str());
        return 2;
      }
    } else {
      // Start from the current policy so flags change only what they name.
      v1::GetPolicyRequest get;
      v1::GetPolicyResponse cur;
      auto st = policies_->GetPolicy(Context().get(), get, &cur);
      if (!st.ok()) return Fail(st);
      *req.mutable_policy() = cur.policy();
      req.set_expected_version(cur.policy().version());
      const std::string model = absl::GetFlag(FLAGS_pain_model);
      if (!model.empty()) {
        v1::PainModel m;
        if (!v1::PainModel_Parse("PAIN_MODEL_" + model, &m)) {
          return Usage("--pain_model: use TRAFFIC_LIGHT_3_5 or SILBERNAGEL_5");
        }
        req.mutable_policy()->set_pain_model(m);
      }
      if (absl::GetFlag(FLAGS_max_ok) != 0) {
        req.mutable_policy()->set_silbernagel_max_ok(
            absl::GetFlag(FLAGS_max_ok));
      }
      req.mutable_policy()->set_silbernagel_strictly_below(
          absl::GetFlag(FLAGS_strictly_below));
    }
    req.mutable_policy()->set_change_reason(absl::GetFlag(FLAGS_reason));
    req.mutable_policy()->set_changed_by(absl::GetFlag(FLAGS_changed_by).empty()
                                             ? absl::GetFlag(FLAGS_clinician)
                                             : absl::GetFlag(FLAGS_changed_by));
    auto st = policies_->SetPolicy(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << "stored\n" << achilles::cli::FormatPolicy(resp.policy());
    return 0;
  }

  int Checkpoint(const std::vector<std::string>& a, bool json) {
    v1::CheckpointRequest req;
    v1::CheckpointResponse resp;
    req.set_name(a[1]);
    auto st = store_->Checkpoint(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << "checkpoint written to " << resp.path()
              << " (on the server)\n";
    return 0;
  }

  // Every page; with --json one document (a ListPatientsResponse holding
  // all of them), so the output parses as a whole however many pages.
  int ListPatients(bool json) {
    v1::ListPatientsRequest req;
    req.set_page_size(1000);
    v1::ListPatientsResponse all;
    for (;;) {
      v1::ListPatientsResponse resp;
      auto st = patients_->ListPatients(Context().get(), req, &resp);
      if (!st.ok()) return Fail(st);
      for (auto& p : *resp.mutable_patients()) {
        if (json) {
          *all.add_patients() = std::move(p);
        } else {
          std::cout << p.patient_id() << "\t" << p.display_name() << "\n";
        }
      }
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    if (json) PrintJson(all), std::cout << "\n";
    return 0;
  }

  int Append(const v1::AppendEventsRequest& req, bool json) {
    v1::AppendEventsResponse resp;
    auto st = patients_->AppendEvents(Context().get(), req, &resp);
    if (!st.ok()) return Fail(st);
    if (json) return PrintJson(resp), 0;
    std::cout << "appended " << resp.appended() << " event(s)";
    if (resp.duplicate_event_ids_size() > 0) {
      std::cout << "; " << resp.duplicate_event_ids_size()
                << " already stored (retry)";
    }
    std::cout << "\n";
    return 0;
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PatientService::Stub> patients_;
  std::unique_ptr<v1::DecisionService::Stub> decisions_;
  std::unique_ptr<v1::PluginService::Stub> plugins_;
  std::unique_ptr<v1::PolicyService::Stub> policies_;
  std::unique_ptr<v1::StoreService::Stub> store_;
};

// achillesctl [COMMAND] --help: that command's synopsis and flags, or the
// overview; never absl's list of every flag.
int Help(int argc, char** argv) {
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] != '-') words.emplace_back(argv[i]);
  }
  const std::string help = achilles::cli::CommandHelp(words);
  std::fputs(help.empty() ? kUsage : help.c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  if (achilles::cli::WantsHelp(argc, argv)) return Help(argc, argv);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  if (args.empty()) return Usage("no command given");
  // A command missing from the table goes on to the dispatcher, which
  // names it if it is unknown there too.
  if (absl::Status st = achilles::cli::CheckCommand(
          args, achilles::cli::FlagNamesInArgs(argc, argv));
      !st.ok() && !absl::IsNotFound(st)) {
    return achilles::cli::UsageError(std::string(st.message()));
  }
  auto channel = achilles::cli::MakeChannel();
  if (!channel.ok()) return Usage(std::string(channel.status().message()));
  Ctl ctl(*channel);
  return ctl.Run(args);
}
