#include "cli/caseload_commands.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "achilles/v1/admin_service.grpc.pb.h"
#include "achilles/v1/caseload_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "cli/connection.h"
#include "cli/demo_caseload.h"
#include "cli/fanout_command.h"
#include "cli/format.h"
#include "common/time_util.h"

ABSL_FLAG(std::string, patients, "",
          "caseload reevaluate: comma-separated patient ids (default: all)");
ABSL_FLAG(std::string, since, "",
          "caseload reevaluate: only patients with events since this time");
ABSL_FLAG(std::string, plugin, "",
          "caseload reevaluate: only patients whose last advice came from "
          "this plugin");
ABSL_FLAG(std::string, resume, "", "caseload reevaluate: run id to resume");
ABSL_FLAG(int, count, 1000, "caseload seed-demo: number of patients");
ABSL_FLAG(int, events_per_patient, 30, "caseload seed-demo: events each");
ABSL_FLAG(int, seed, 1, "caseload seed-demo: random seed");
ABSL_FLAG(int, page_size, 50, "caseload worklist: patients per page (1-1000)");
ABSL_FLAG(std::string, page_token, "",
          "caseload worklist: the page to show (printed after the previous "
          "one)");
ABSL_DECLARE_FLAG(bool, dry_run);
ABSL_DECLARE_FLAG(std::string, as_of);
ABSL_DECLARE_FLAG(std::string, pain_model);
ABSL_DECLARE_FLAG(int, max_ok);
ABSL_DECLARE_FLAG(bool, strictly_below);

namespace achilles::cli {
namespace {

std::atomic<bool> g_interrupted{false};
void OnSigint(int) { g_interrupted = true; }

const char* DeltaName(v1::DeltaKind k) {
  switch (k) {
    case v1::DELTA_KIND_NEW:
      return "new";
    case v1::DELTA_KIND_UNCHANGED:
      return "unchanged";
    case v1::DELTA_KIND_CHANGED:
      return "changed";
    case v1::DELTA_KIND_ESCALATED:
      return "ESCALATED";
    case v1::DELTA_KIND_DEESCALATED:
      return "de-escalated";
    case v1::DELTA_KIND_FAILED:
      return "FAILED";
    default:
      return "?";
  }
}

// Credentials and clinic only: runs and seeding set their own deadlines.
void Context(grpc::ClientContext* ctx) { Decorate(ctx, /*deadline=*/false); }

// Parses a time flag into `out`; false (message printed) when it is bad.
bool TimeFlag(const std::string& text, const char* flag,
              google::protobuf::Timestamp* out) {
  if (text.empty()) return true;
  std::string err;
  absl::Time t;
  if (!ParseTimeArg(text, &t, &err)) {
    std::fprintf(stderr, "%s: %s\n", flag, err.c_str());
    return false;
  }
  *out = FromMicros(absl::ToUnixMicros(t));
  return true;
}

// Preview a pain-model change: the clinic's current policy with the model
// replaced, evaluated without storing anything. 0 or the exit status.
int PainModelPreview(const std::shared_ptr<grpc::Channel>& channel,
                     v1::ReEvaluateRequest* req) {
  if (!req->dry_run()) {
    std::fprintf(stderr,
                 "--pain_model with reevaluate needs --dry_run (to apply a "
                 "policy, use `policy set`)\n");
    return 2;
  }
  auto policies = v1::PolicyService::NewStub(channel);
  grpc::ClientContext pctx;
  Context(&pctx);
  v1::GetPolicyRequest get;
  v1::GetPolicyResponse current;
  auto st = policies->GetPolicy(&pctx, get, &current);
  if (!st.ok()) return PrintRpcError(st);
  v1::PainModel m;
  if (!v1::PainModel_Parse("PAIN_MODEL_" + absl::GetFlag(FLAGS_pain_model),
                           &m)) {
    std::fprintf(stderr,
                 "--pain_model: use TRAFFIC_LIGHT_3_5 or SILBERNAGEL_5\n");
    return 2;
  }
  v1::ClinicPolicy* policy = req->mutable_policy_override();
  *policy = current.policy();
  policy->set_pain_model(m);
  if (absl::GetFlag(FLAGS_max_ok) != 0) {
    policy->set_silbernagel_max_ok(absl::GetFlag(FLAGS_max_ok));
  }
  policy->set_silbernagel_strictly_below(absl::GetFlag(FLAGS_strictly_below));
  return 0;
}

// The request the flags describe. 0 or the exit status.
int ReEvaluateRequestFromFlags(const std::shared_ptr<grpc::Channel>& channel,
                               v1::ReEvaluateRequest* req) {
  for (absl::string_view id :
       absl::StrSplit(absl::GetFlag(FLAGS_patients), ',', absl::SkipEmpty())) {
    req->add_patient_ids(std::string(id));
  }
  if (!TimeFlag(absl::GetFlag(FLAGS_since), "--since",
                req->mutable_events_since()) ||
      !TimeFlag(absl::GetFlag(FLAGS_as_of), "--as_of", req->mutable_as_of())) {
    return 2;
  }
  req->set_plugin_id(absl::GetFlag(FLAGS_plugin));
  req->set_dry_run(absl::GetFlag(FLAGS_dry_run));
  req->set_resume_run_id(absl::GetFlag(FLAGS_resume));
  if (absl::GetFlag(FLAGS_pain_model).empty()) return 0;
  return PainModelPreview(channel, req);
}

// What a run's stream said, for the closing summary.
struct RunReport {
  std::string run_id;
  v1::RunSummary summary;
  std::vector<v1::PatientDelta> escalated;  // The first 50.
  int64_t more_escalated = 0;
  std::vector<v1::PatientDelta> failed;  // The first 20.
};

void ShowProgress(const v1::Progress& p, bool tty) {
  if (!tty) {
    // stdout is a pipe or file: it gets the result only.
    std::fprintf(stderr, "progress %lld/%lld (%.0f patients/s, ETA %.0f s)\n",
                 static_cast<long long>(p.done()),
                 static_cast<long long>(p.total()), p.patients_per_second(),
                 p.eta_seconds());
    return;
  }
  const int width = 30;
  const int filled =
      p.total() > 0 ? static_cast<int>(width * p.done() / p.total()) : width;
  std::printf("\r[%s%s] %lld/%lld  %.0f patients/s  ETA %.0f s   ",
              std::string(filled, '#').c_str(),
              std::string(width - filled, '.').c_str(),
              static_cast<long long>(p.done()),
              static_cast<long long>(p.total()), p.patients_per_second(),
              p.eta_seconds());
  std::fflush(stdout);
}

void CollectDeltas(const v1::ReEvaluateEvent& event, RunReport* report) {
  // Servers before delta_batch sent one delta per event.
  std::vector<v1::PatientDelta> deltas(event.delta_batch().deltas().begin(),
                                       event.delta_batch().deltas().end());
  if (event.has_delta()) deltas.push_back(event.delta());
  for (const auto& d : deltas) {
    if (d.kind() == v1::DELTA_KIND_ESCALATED) {
      if (report->escalated.size() < 50) {
        report->escalated.push_back(d);
      } else {
        ++report->more_escalated;
      }
    } else if (d.kind() == v1::DELTA_KIND_FAILED &&
               report->failed.size() < 20) {
      report->failed.push_back(d);
    }
  }
}

// Reads the run's stream to its end; Ctrl-C cancels the call.
grpc::Status ReadRun(v1::CaseloadService::Stub& stub,
                     const v1::ReEvaluateRequest& req, bool json,
                     RunReport* report) {
  grpc::ClientContext ctx;
  Context(&ctx);
  std::signal(SIGINT, OnSigint);
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    while (!finished.load()) {
      if (g_interrupted.load()) {
        ctx.TryCancel();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  auto reader = stub.ReEvaluate(&ctx, req);
  const bool tty = isatty(STDOUT_FILENO) && !json;
  v1::ReEvaluateEvent event;
  while (reader->Read(&event)) {
    report->run_id = event.run_id();
    if (json) {
      std::cout << JsonLine(event) << "\n";
    } else if (event.has_progress()) {
      ShowProgress(event.progress(), tty);
    } else if (event.has_delta() || event.has_delta_batch()) {
      CollectDeltas(event, report);
    } else if (event.has_summary()) {
      report->summary = event.summary();
    }
  }
  finished = true;
  watcher.join();
  if (tty) std::printf("\n");
  return reader->Finish();
}

void PrintRunSummary(const v1::ReEvaluateRequest& req,
                     const RunReport& report) {
  const v1::RunSummary& summary = report.summary;
  std::printf("\nRun %s%s: %lld patients in %.1f s\n", report.run_id.c_str(),
              req.dry_run() ? " (dry run, nothing stored)" : "",
              static_cast<long long>(summary.total()), summary.seconds());
  const std::pair<const char*, int64_t> counts[] = {
      {"escalated", summary.escalated()},
      {"de-escalated", summary.deescalated()},
      {"changed", summary.changed()},
      {"new", summary.new_count()},
      {"unchanged", summary.unchanged()},
      {"failed", summary.failed()}};
  for (const auto& [label, n] : counts) {
    std::printf("  %-14s %8lld\n", label, static_cast<long long>(n));
  }
  if (summary.skipped_resumed() > 0) {
    std::printf("  %-14s %8lld\n", "already done",
                static_cast<long long>(summary.skipped_resumed()));
  }
  if (!report.escalated.empty()) {
    std::printf("\nEscalated patients:\n");
    for (const auto& d : report.escalated) {
      std::printf("  %-16s %s -> %s  %s\n", d.patient_id().c_str(),
                  SeverityName(d.previous_severity()),
                  SeverityName(d.current_severity()), d.top_summary().c_str());
    }
    if (report.more_escalated > 0) {
      std::printf("  ... and %lld more (see `achillesctl caseload worklist`)\n",
                  static_cast<long long>(report.more_escalated));
    }
  }
  for (const auto& d : report.failed) {
    std::printf("  FAILED %s: %s\n", d.patient_id().c_str(), d.error().c_str());
  }
}

int Reevaluate(const std::shared_ptr<grpc::Channel>& channel, bool json) {
  v1::ReEvaluateRequest req;
  if (int status = ReEvaluateRequestFromFlags(channel, &req); status != 0) {
    return status;
  }
  auto stub = v1::CaseloadService::NewStub(channel);
  RunReport report;
  grpc::Status st = ReadRun(*stub, req, json, &report);
  if (!st.ok()) {
    const int status = PrintRpcError(st);
    const std::string& run_id = report.run_id;
    if (g_interrupted && !run_id.empty() && run_id != "dry-run") {
      // The whole command to paste: a run belongs to its clinic.
      const std::string clinic = absl::GetFlag(FLAGS_clinic);
      std::fprintf(stderr,
                   "resume with: achillesctl%s caseload reevaluate "
                   "--resume=%s\n",
                   clinic.empty() ? "" : (" --clinic=" + clinic).c_str(),
                   run_id.c_str());
    }
    return status;
  }
  if (!json) PrintRunSummary(req, report);
  return 0;
}

int Worklist(const std::shared_ptr<grpc::Channel>& channel, bool json) {
  auto stub = v1::CaseloadService::NewStub(channel);
  v1::WorklistRequest req;
  req.set_page_size(absl::GetFlag(FLAGS_page_size));
  req.set_page_token(absl::GetFlag(FLAGS_page_token));
  grpc::ClientContext ctx;
  Context(&ctx);
  v1::WorklistResponse resp;
  auto st = stub->Worklist(&ctx, req, &resp);
  if (!st.ok()) return PrintRpcError(st);
  if (json) {
    std::cout << JsonLine(resp) << "\n";
    return 0;
  }
  std::printf("%-16s %-9s %-13s %-6s %s\n", "PATIENT", "TOP", "CHANGE", "STALE",
              "TOP RECOMMENDATION");
  for (const auto& i : resp.items()) {
    std::printf("%-16s %-9s %-13s %-6s %s\n", i.patient_id().c_str(),
                SeverityName(i.top_severity()), DeltaName(i.last_delta()),
                i.stale() ? "yes" : "", i.top_summary().c_str());
  }
  if (!resp.next_page_token().empty()) {
    // The whole command to paste for the next page.
    const std::string clinic = absl::GetFlag(FLAGS_clinic);
    std::printf(
        "next page: achillesctl%s caseload worklist --page_size=%d "
        "--page_token=%s\n",
        clinic.empty() ? "" : (" --clinic=" + clinic).c_str(), req.page_size(),
        resp.next_page_token().c_str());
  }
  return 0;
}

int SeedDemo(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::PatientService::NewStub(channel);
  const int count = absl::GetFlag(FLAGS_count);
  const int per = absl::GetFlag(FLAGS_events_per_patient);
  if (count <= 0 || per < 3 || per > 5000) {
    std::fprintf(stderr,
                 "--count must be > 0 and --events_per_patient 3-5000\n");
    return 2;
  }
  const int64_t now = NowMicros() - kMicrosPerHour;
  std::atomic<int> next{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < count && errors == 0; i = next++) {
        const std::string id = absl::StrFormat("demo-%05d", i);
        grpc::ClientContext c1;
        Context(&c1);
        v1::UpsertPatientRequest up;
        v1::UpsertPatientResponse ur;
        up.mutable_patient()->set_patient_id(id);
        up.mutable_patient()->set_display_name(
            absl::StrCat("Demo patient ", i));
        if (!stub->UpsertPatient(&c1, up, &ur).ok()) {
          ++errors;
          return;
        }
        auto events = DemoTimeline(absl::GetFlag(FLAGS_seed), i, per, now);
        for (size_t b = 0; b < events.size(); b += 500) {
          v1::AppendEventsRequest req;
          req.set_patient_id(id);
          for (size_t k = b; k < std::min(events.size(), b + 500); ++k) {
            *req.add_events() = events[k];
          }
          grpc::ClientContext c2;
          Context(&c2);
          v1::AppendEventsResponse resp;
          auto st = stub->AppendEvents(&c2, req, &resp);
          if (!st.ok()) {
            std::fprintf(stderr, "error: %s: %s\n", id.c_str(),
                         st.error_message().c_str());
            ++errors;
            return;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (errors > 0) return 1;
  std::printf(
      "seeded %d demo patients with about %d events each in clinic %s\n", count,
      per, absl::GetFlag(FLAGS_clinic).c_str());
  return 0;
}

}  // namespace

int RunCaseload(const std::shared_ptr<grpc::Channel>& channel,
                const std::vector<std::string>& args, bool json) {
  const std::string sub = args.size() > 1 ? args[1] : "";
  if (sub == "reevaluate") return Reevaluate(channel, json);
  if (sub == "worklist") return Worklist(channel, json);
  if (sub == "seed-demo") return SeedDemo(channel);
  if (sub == "fanout") return RunFanout(args);
  std::fprintf(
      stderr,
      "usage: achillesctl caseload reevaluate|worklist|seed-demo|fanout\n");
  return 2;
}

}  // namespace achilles::cli
