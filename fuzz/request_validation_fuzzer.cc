// Request validation: bytes as a client sends them over gRPC, decoded as the
// server decodes them, then checked exactly as the handlers check them
// (services/validation). The first byte picks the request type.
//
// Invariants beyond "never crashes":
//  - a batch ValidateEventBatch accepts has every event accepted by
//    ValidateEvent, and its keys round-trip through the store's key
//    encoding (the event time is what the timeline is ordered by);
//  - SortTimeline leaves an accepted batch in strictly increasing key order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "achilles/v1/admin_service.pb.h"
#include "achilles/v1/patient_service.pb.h"
#include "common/time_util.h"
#include "fuzz/fuzz_common.h"
#include "services/validation/validation.h"
#include "storage/internal/key_encoding.h"
#include "storage/timeline_order.h"

namespace achilles::fuzz {
namespace {

namespace si = ::achilles::storage_internal;

void CheckAppend(const v1::AppendEventsRequest& req) {
  validation::ValidateId("patient_id", req.patient_id()).IgnoreError();
  std::vector<v1::Event> events(req.events().begin(), req.events().end());
  if (!validation::ValidateEventBatch(events, kNowMicros).ok()) return;
  for (size_t i = 0; i < events.size(); ++i) {
    ACH_FUZZ_CHECK(validation::ValidateEvent(absl::StrCat("events[", i, "]"),
                                             events[i], kNowMicros)
                       .ok(),
                   "batch accepted but one of its events is not");
    const int64_t t = ToMicros(events[i].occurred_at());
    const std::string suffix = si::EventKeySuffix(t, events[i].event_id());
    ACH_FUZZ_CHECK(si::ReadTime(suffix) == t, "event time key round trip");
  }
  storage::SortTimeline(&events);
  for (size_t i = 1; i < events.size(); ++i) {
    const std::string a = si::EventKeySuffix(
        ToMicros(events[i - 1].occurred_at()), events[i - 1].event_id());
    const std::string b = si::EventKeySuffix(ToMicros(events[i].occurred_at()),
                                             events[i].event_id());
    ACH_FUZZ_CHECK(a < b, "SortTimeline left keys out of order");
  }
}

}  // namespace
}  // namespace achilles::fuzz

ACH_FUZZ_INITIALIZE()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace achilles;  // NOLINT: fuzz entry point only.
  if (size < 1) return 0;
  const uint8_t which = data[0] % 4;
  const char* body = reinterpret_cast<const char*>(data + 1);
  const int n = static_cast<int>(size - 1);
  switch (which) {
    case 0: {
      v1::AppendEventsRequest req;
      if (req.ParseFromArray(body, n)) fuzz::CheckAppend(req);
      break;
    }
    case 1: {
      v1::UpsertPatientRequest req;
      if (req.ParseFromArray(body, n)) {
        validation::ValidatePatient(req.patient()).IgnoreError();
      }
      break;
    }
    case 2: {
      v1::SetPolicyRequest req;
      if (req.ParseFromArray(body, n)) {
        validation::ValidatePolicy(req.policy()).IgnoreError();
      }
      break;
    }
    case 3: {
      // Text from outside protobuf (metadata such as x-clinic-id).
      const absl::string_view text(body, static_cast<size_t>(n));
      validation::IsValidUtf8(text);
      validation::ValidateId("x-clinic-id metadata", text).IgnoreError();
      break;
    }
  }
  return 0;
}
