#include "cli/ehr_commands.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/flags/flag.h"
#include "achilles/v1/decision_service.grpc.pb.h"
#include "achilles/v1/patient_service.grpc.pb.h"
#include "cli/connection.h"
#include "cli/format.h"
#include "services/ehr/ehr.h"

ABSL_FLAG(std::string, html, "", "report: write the HTML report to this file");

namespace achilles::cli {
namespace {

// One AppendEvents request holds at most this many events; a bigger bundle
// would be stored in parts, which import refuses to do.
constexpr size_t kMaxEvents = 500;

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  Decorate(ctx.get());
  return ctx;
}

int PrintIssues(const std::vector<ehr::BundleIssue>& issues, const char* what) {
  for (const auto& i : issues) {
    std::cerr << what << ": " << i.full_url << ": " << i.reason << "\n";
  }
  return issues.empty() ? 0 : 1;
}

// Creates the patient when the server does not know it yet; `*created`
// says whether this call did.
grpc::Status EnsurePatient(v1::PatientService::Stub* stub,
                           const v1::Patient& patient, bool* created) {
  *created = false;
  v1::GetPatientRequest get;
  get.set_patient_id(patient.patient_id());
  v1::GetPatientResponse got;
  grpc::Status st = stub->GetPatient(Context().get(), get, &got);
  if (st.error_code() != grpc::StatusCode::NOT_FOUND) return st;
  v1::UpsertPatientRequest up;
  *up.mutable_patient() = patient;
  v1::UpsertPatientResponse resp;
  st = stub->UpsertPatient(Context().get(), up, &resp);
  *created = st.ok() && resp.created();
  return st;
}

int ImportFhir(const std::shared_ptr<grpc::Channel>& channel,
               const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return UsageError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = ehr::ParseBundle(text.str(), "");
  if (!parsed.ok()) return UsageError(path + ": " + parsed.status().ToString());
  PrintIssues(parsed->skipped, "skipped");
  if (PrintIssues(parsed->errors, "refused") != 0) {
    std::cerr << "bundle refused: nothing was imported\n";
    return 1;
  }
  if (parsed->events.size() > kMaxEvents) {
    std::cerr << "bundle refused: " << parsed->events.size()
              << " events; at most " << kMaxEvents
              << " per import (split the bundle)\n";
    return 1;
  }
  auto stub = v1::PatientService::NewStub(channel);
  bool created = false;
  if (auto st = EnsurePatient(stub.get(), parsed->patient, &created);
      !st.ok()) {
    return PrintRpcError(st);
  }
  v1::AppendEventsResponse resp;
  if (!parsed->events.empty()) {
    v1::AppendEventsRequest req;
    req.set_patient_id(parsed->patient.patient_id());
    for (const auto& e : parsed->events) *req.add_events() = e;
    auto st = stub->AppendEvents(Context().get(), req, &resp);
    if (!st.ok()) {
      // Not undone by erasing the patient: between two calls another
      // client's acknowledged events could reach it and be erased too.
      // The import is idempotent, so running it again completes it.
      if (created) {
        std::cerr << "patient " << req.patient_id()
                  << " was created but none of the bundle's events were "
                     "stored: run the import again, or erase the patient "
                     "(patient delete)\n";
      }
      return PrintRpcError(st);
    }
  }
  std::cout << "imported " << resp.appended() << " new event(s), "
            << resp.duplicate_event_ids_size() << " already stored, "
            << parsed->skipped.size() << " resource(s) skipped\n";
  return 0;
}

// Every event up to `to_us` (exclusive), page by page.
grpc::Status LoadEvents(v1::PatientService::Stub* stub, const std::string& pid,
                        const google::protobuf::Timestamp& as_of,
                        std::vector<v1::Event>* out) {
  v1::ListEventsRequest req;
  req.set_patient_id(pid);
  req.set_page_size(1000);
  *req.mutable_to() = as_of;
  req.mutable_to()->set_nanos(as_of.nanos() + 1);  // Inclusive of as_of.
  if (req.to().nanos() >= 1000000000) {
    req.mutable_to()->set_seconds(as_of.seconds() + 1);
    req.mutable_to()->set_nanos(0);
  }
  for (;;) {
    v1::ListEventsResponse page;
    auto st = stub->ListEvents(Context().get(), req, &page);
    if (!st.ok()) return st;
    for (auto& e : *page.mutable_events()) out->push_back(std::move(e));
    if (page.next_page_token().empty()) return grpc::Status::OK;
    req.set_page_token(page.next_page_token());
  }
}

grpc::Status GetPatient(v1::PatientService::Stub& patients,
                        const std::string& pid, v1::GetPatientResponse* out) {
  v1::GetPatientRequest get;
  get.set_patient_id(pid);
  return patients.GetPatient(Context().get(), get, out);
}

int Report(const std::shared_ptr<grpc::Channel>& channel,
           const std::string& pid) {
  const std::string file = absl::GetFlag(FLAGS_html);
  if (file.empty()) return UsageError("report needs --html=FILE");
  auto patients = v1::PatientService::NewStub(channel);
  auto decisions = v1::DecisionService::NewStub(channel);
  v1::GetPatientResponse patient;
  if (auto st = GetPatient(*patients, pid, &patient); !st.ok()) {
    return PrintRpcError(st);
  }
  v1::EvaluateRequest eval;
  eval.set_patient_id(pid);
  v1::EvaluateResponse ev;
  if (auto st = decisions->Evaluate(Context().get(), eval, &ev); !st.ok()) {
    return PrintRpcError(st);
  }
  std::vector<v1::Event> events;
  if (auto st =
          LoadEvents(patients.get(), pid, ev.evaluation().as_of(), &events);
      !st.ok()) {
    return PrintRpcError(st);
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << ehr::RenderReport(patient.patient(), events, ev.evaluation());
  if (!out.flush()) return UsageError("cannot write " + file);
  std::cout << "wrote " << file << " (" << events.size() << " events, "
            << ev.evaluation().recommendations_size() << " recommendations)\n";
  return 0;
}

// The patient's timeline as a FHIR Bundle on stdout; events the mapping
// cannot carry are counted on stderr, per kind.
int ExportFhir(const std::shared_ptr<grpc::Channel>& channel,
               const std::string& pid) {
  auto patients = v1::PatientService::NewStub(channel);
  v1::GetPatientResponse patient;
  if (auto st = GetPatient(*patients, pid, &patient); !st.ok()) {
    return PrintRpcError(st);
  }
  google::protobuf::Timestamp far;
  far.set_seconds(7258118399);  // After every event (none is in the future).
  std::vector<v1::Event> events;
  if (auto st = LoadEvents(patients.get(), pid, far, &events); !st.ok()) {
    return PrintRpcError(st);
  }
  ehr::LeftOut left_out;
  std::cout << ehr::ExportBundle(patient.patient(), events, &left_out) << "\n";
  std::cerr << "exported " << events.size() - left_out.total
            << " event(s); left out " << left_out.total
            << " without a FHIR mapping"
            << (left_out.total > 0 ? " (" + left_out.ByKindText() + ")" : "")
            << "\n";
  return 0;
}

}  // namespace

int RunEhr(const std::shared_ptr<grpc::Channel>& channel,
           const std::vector<std::string>& args, bool /*json*/) {
  if (args[0] == "import" && args.size() == 3 && args[1] == "fhir") {
    return ImportFhir(channel, args[2]);
  }
  if (args[0] == "export" && args.size() == 3 && args[1] == "fhir") {
    return ExportFhir(channel, args[2]);
  }
  if (args[0] == "report" && args.size() == 2) return Report(channel, args[1]);
  return UsageError(
      "usage: import fhir BUNDLE.json | export fhir PATIENT | report PATIENT "
      "--html F");
}

}  // namespace achilles::cli
