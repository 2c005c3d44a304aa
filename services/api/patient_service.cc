#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/api/api.h"
#include "services/validation/requests.h"

namespace achilles::api {
namespace {

int PageSize(int requested, int default_size) {
  if (requested <= 0) return default_size;
  return requested;
}

}  // namespace

grpc::ServerUnaryReactor* PatientServiceImpl::UpsertPatient(
    grpc::CallbackServerContext* ctx, const v1::UpsertPatientRequest* req,
    v1::UpsertPatientResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.PatientService/UpsertPatient", *req,
               req->patient().patient_id(),
               [=](const security::Caller& caller) -> absl::Status {
                 const std::string* clinic = &caller.clinic;
                 ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
                 v1::Patient patient = req->patient();
                 auto created = b_->store->UpsertPatient(*clinic, patient);
                 if (!created.ok()) return created.status();
                 *resp->mutable_patient() = patient;
                 resp->set_created(*created);
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* PatientServiceImpl::GetPatient(
    grpc::CallbackServerContext* ctx, const v1::GetPatientRequest* req,
    v1::GetPatientResponse* resp) {
  return Serve(
      ctx, b_, "achilles.v1.PatientService/GetPatient", *req, req->patient_id(),
      [=](const security::Caller& caller) -> absl::Status {
        const std::string* clinic = &caller.clinic;
        ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
        auto patient = b_->store->GetPatient(*clinic, req->patient_id());
        if (!patient.ok()) return patient.status();
        auto count = b_->store->CountEvents(*clinic, req->patient_id());
        if (!count.ok()) return count.status();
        *resp->mutable_patient() = *patient;
        resp->set_event_count(*count);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* PatientServiceImpl::DeletePatient(
    grpc::CallbackServerContext* ctx, const v1::DeletePatientRequest* req,
    v1::DeletePatientResponse* resp) {
  return Serve(
      ctx, b_, "achilles.v1.PatientService/DeletePatient", *req,
      req->patient_id(), [=](const security::Caller& caller) -> absl::Status {
        const std::string* clinic = &caller.clinic;
        ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
        if (b_->erasures != nullptr) {
          // Recorded first: a restore of an older backup must erase this
          // patient again, even if this server stops mid-erasure.
          ACH_RETURN_IF_ERROR(b_->erasures->Record(
              *clinic, b_->secret->Pseudonym(*clinic, req->patient_id()),
              NowMicros()));
        }
        auto result = b_->store->DeletePatient(*clinic, req->patient_id());
        if (!result.ok()) return result.status();
        resp->set_events_deleted(result->events_deleted);
        resp->set_evaluations_deleted(result->evaluations_deleted);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* PatientServiceImpl::AppendEvents(
    grpc::CallbackServerContext* ctx, const v1::AppendEventsRequest* req,
    v1::AppendEventsResponse* resp) {
  return Serve(
      ctx, b_, "achilles.v1.PatientService/AppendEvents", *req,
      req->patient_id(), [=](const security::Caller& caller) -> absl::Status {
        const std::string* clinic = &caller.clinic;
        ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req, NowMicros()));
        std::vector<v1::Event> events(req->events().begin(),
                                      req->events().end());
        // This call's audit entry is synced before it is answered, and
        // covers the append (storage::Durability).
        auto result =
            b_->store->AppendEvents(*clinic, req->patient_id(), events,
                                    storage::Durability::kCoveredByNextSync);
        if (!result.ok()) return result.status();
        resp->set_appended(result->appended);
        for (const auto& id : result->duplicate_event_ids) {
          resp->add_duplicate_event_ids(id);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* PatientServiceImpl::ListEvents(
    grpc::CallbackServerContext* ctx, const v1::ListEventsRequest* req,
    v1::ListEventsResponse* resp) {
  return Serve(
      ctx, b_, "achilles.v1.PatientService/ListEvents", *req, req->patient_id(),
      [=](const security::Caller& caller) -> absl::Status {
        const std::string* clinic = &caller.clinic;
        ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
        const int64_t from =
            req->has_from() ? ToMicros(req->from()) : INT64_MIN / 2;
        const int64_t to = req->has_to() ? ToMicros(req->to()) : INT64_MAX / 2;
        // A token continues exactly this query: it must not move `from`.
        const std::string scope = absl::StrCat(
            "ListEvents", absl::string_view("\0", 1), *clinic,
            absl::string_view("\0", 1), req->patient_id(),
            absl::string_view("\0", 1), from, absl::string_view("\0", 1), to);
        auto position = OpenPageToken(*b_->secret, scope, req->page_token());
        if (!position.ok()) return position.status();
        auto page =
            b_->store->ListEvents(*clinic, req->patient_id(), from, to,
                                  PageSize(req->page_size(), 100), *position);
        if (!page.ok()) return page.status();
        for (auto& e : page->events) *resp->add_events() = std::move(e);
        resp->set_next_page_token(
            SealPageToken(*b_->secret, scope, page->next_page_token));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* PatientServiceImpl::ListPatients(
    grpc::CallbackServerContext* ctx, const v1::ListPatientsRequest* req,
    v1::ListPatientsResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.PatientService/ListPatients", *req, "",
               [=](const security::Caller& caller) -> absl::Status {
                 const std::string* clinic = &caller.clinic;
                 ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
                 const std::string scope = absl::StrCat(
                     "ListPatients", absl::string_view("\0", 1), *clinic);
                 auto position =
                     OpenPageToken(*b_->secret, scope, req->page_token());
                 if (!position.ok()) return position.status();
                 auto page = b_->store->ListPatients(
                     *clinic, PageSize(req->page_size(), 100), *position);
                 if (!page.ok()) return page.status();
                 for (auto& p : page->patients)
                   *resp->add_patients() = std::move(p);
                 resp->set_next_page_token(
                     SealPageToken(*b_->secret, scope, page->next_page_token));
                 return absl::OkStatus();
               });
}

}  // namespace achilles::api
