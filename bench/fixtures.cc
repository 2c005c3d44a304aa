// Seeding the load generator's patients (see fixtures.h).
#include "bench/fixtures.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cli/demo_caseload.h"
#include "common/time_util.h"

namespace achilles::bench {
namespace {

constexpr int kMaxEventsPerCall = 500;  // AppendEventsRequest's limit.
constexpr uint64_t kSeed = 13;

grpc::Status Upsert(const Clients& clients, int c, const std::string& id) {
  grpc::ClientContext ctx;
  clients.Prepare(&ctx);
  v1::UpsertPatientRequest req;
  v1::UpsertPatientResponse resp;
  req.mutable_patient()->set_patient_id(id);
  return clients.patients(c)->UpsertPatient(&ctx, req, &resp);
}

grpc::Status AppendAll(const Clients& clients, int c, const std::string& id,
                       const std::vector<v1::Event>& events) {
  for (size_t start = 0; start < events.size(); start += kMaxEventsPerCall) {
    v1::AppendEventsRequest req;
    req.set_patient_id(id);
    const size_t end = std::min(events.size(), start + kMaxEventsPerCall);
    for (size_t i = start; i < end; ++i) *req.add_events() = events[i];
    grpc::ClientContext ctx;
    clients.Prepare(&ctx);
    v1::AppendEventsResponse resp;
    if (auto st = clients.patients(c)->AppendEvents(&ctx, req, &resp);
        !st.ok()) {
      return st;
    }
  }
  return grpc::Status::OK;
}

// Everything client `c` will use.
grpc::Status SeedClient(const Clients& clients, const FixtureSpec& spec,
                        int c) {
  for (int k = 0; k < spec.patients_per_client; ++k) {
    if (auto st = Upsert(clients, c, AppendPatientId(spec, c, k)); !st.ok()) {
      return st;
    }
  }
  for (int size : spec.sizes) {
    for (int k = 0; k < spec.patients_per_client; ++k) {
      const std::string id = EvaluatePatientId(spec, size, c, k);
      auto events = cli::DemoTimeline(kSeed, c * spec.patients_per_client + k,
                                      size, spec.end_us);
      // The generator adds an event for its rare red-flag patients; the
      // figure is for timelines of exactly `size` events.
      if (static_cast<int>(events.size()) > size) events.resize(size);
      grpc::Status st = Upsert(clients, c, id);
      if (st.ok()) st = AppendAll(clients, c, id, events);
      if (!st.ok()) return st;
    }
  }
  return grpc::Status::OK;
}

}  // namespace

std::string EvaluatePatientId(const FixtureSpec& spec, int size, int client,
                              int k) {
  return absl::StrCat(spec.prefix, "-e", size, "-c", client, "-", k);
}

std::string AppendPatientId(const FixtureSpec& spec, int client, int k) {
  return absl::StrCat(spec.prefix, "-a-c", client, "-", k);
}

absl::Status SeedFixtures(const Clients& clients, const FixtureSpec& spec) {
  std::mutex mu;
  grpc::Status first = grpc::Status::OK;
  std::vector<std::thread> threads;
  for (int c = 0; c < spec.clients; ++c) {
    threads.emplace_back([&, c] {
      const grpc::Status st = SeedClient(clients, spec, c);
      std::lock_guard<std::mutex> lock(mu);
      if (!st.ok() && first.ok()) first = st;
    });
  }
  for (auto& t : threads) t.join();
  if (first.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(first.error_code()),
                      absl::StrCat("seeding: ", first.error_message()));
}

v1::Event AppendedEvent(long i, int64_t at_us) {
  v1::Event e;
  e.set_event_id(absl::StrCat("load-", i));
  *e.mutable_occurred_at() = FromMicros(at_us);
  if (i % 2 == 0) {
    auto* r = e.mutable_run_session();
    r->set_distance_km(5);
    r->set_duration_minutes(30);
    r->set_cadence_spm(170);
    r->mutable_response()->set_pain_during(static_cast<int>(i % 4));
    r->mutable_response()->set_settle_time_hours(12);
    r->mutable_response()->set_morning_vs_baseline(v1::COMPARISON_SAME);
  } else {
    e.mutable_pain_report()->set_activity(v1::ACTIVITY_WALKING);
    e.mutable_pain_report()->mutable_response()->set_pain_during(2);
  }
  return e;
}

}  // namespace achilles::bench
