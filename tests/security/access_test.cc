// The trust boundary, tried as an attacker would, against a real server on
// loopback: every RPC of every achilles.v1 service refuses a caller without
// credentials, with a revoked or forged token, with the wrong role, or
// naming another clinic; one clinic never sees another's data; the audit
// trail records refusals without patient ids and detects tampering.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "achilles/v1/admin_service.grpc.pb.h"
#include "achilles/v1/caseload_service.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "services/security/security.h"
#include "tests/common/events.h"
#include "tests/integration/test_server.h"

namespace achilles::testing {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::MethodDescriptor;

const char* const kServices[] = {
    "achilles.v1.PatientService",    "achilles.v1.DecisionService",
    "achilles.v1.PluginService",     "achilles.v1.PolicyService",
    "achilles.v1.CaseloadService",   "achilles.v1.StoreService",
    "achilles.v1.CredentialService", "achilles.v1.AuditService"};

std::vector<const MethodDescriptor*> AllMethods() {
  std::vector<const MethodDescriptor*> out;
  for (const char* name : kServices) {
    const auto* service =
        DescriptorPool::generated_pool()->FindServiceByName(name);
    EXPECT_NE(service, nullptr) << name;
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      out.push_back(service->method(i));
    }
  }
  return out;
}

std::string FullName(const MethodDescriptor* m) {
  return m->service()->full_name() + "/" + m->name();
}

void* Tag(intptr_t i) { return reinterpret_cast<void*>(i); }

// Calls any method with an empty request, unary or server-streaming, and
// returns the final status.
grpc::Status CallRaw(const std::shared_ptr<grpc::Channel>& channel,
                     grpc::ClientContext* ctx, const MethodDescriptor* m) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  const std::string path = "/" + FullName(m);
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  grpc::Status status;
  void* got = nullptr;
  bool ok = false;
  if (!m->server_streaming()) {
    auto call = stub.PrepareUnaryCall(ctx, path, request, &cq);
    call->StartCall();
    call->Finish(&response, &status, Tag(1));
    cq.Next(&got, &ok);
    return status;
  }
  auto call = stub.PrepareCall(ctx, path, &cq);
  call->StartCall(Tag(1));
  cq.Next(&got, &ok);
  call->Write(request, Tag(2));
  cq.Next(&got, &ok);
  call->WritesDone(Tag(3));
  cq.Next(&got, &ok);
  for (;;) {  // Drain whatever the server streams before its status.
    call->Read(&response, Tag(4));
    cq.Next(&got, &ok);
    if (!ok) break;
  }
  call->Finish(&status, Tag(5));
  cq.Next(&got, &ok);
  return status;
}

class AccessTest : public ::testing::Test {
 protected:
  std::unique_ptr<grpc::ClientContext> With(const std::string& token,
                                            const std::string& clinic = "") {
    auto ctx = s_.Bare();
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    if (!clinic.empty()) ctx->AddMetadata("x-clinic-id", clinic);
    return ctx;
  }

  TestServer s_;
};

TEST_F(AccessTest, TheMethodTableCoversEveryRpcAndNothingElse) {
  std::set<std::string> rpcs, table;
  for (const auto* m : AllMethods()) rpcs.insert(FullName(m));
  for (const auto& p : security::MethodTable()) table.insert(p.name);
  EXPECT_EQ(rpcs, table);
}

TEST_F(AccessTest, EveryRpcRefusesACallerWithoutCredentials) {
  for (const auto* m : AllMethods()) {
    auto ctx = s_.Bare();
    EXPECT_EQ(CallRaw(s_.channel(), ctx.get(), m).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << FullName(m);
  }
}

TEST_F(AccessTest, EveryRpcRefusesForgedMalformedAndRevokedTokens) {
  const std::string good =
      s_.Token("a", {v1::ROLE_EHR, v1::ROLE_CLINICIAN, v1::ROLE_CLINIC_ADMIN});
  // Same id, another secret.
  const std::string forged =
      good.substr(0, good.rfind('.') + 1) + std::string(64, '0');
  auto revoked = s_.server()->backend()->gate->credentials()->Issue(
      [] {
        v1::IssueTokenRequest r;
        r.set_subject("leaver");
        r.set_clinic_id("a");
        r.add_roles(v1::ROLE_EHR);
        return r;
      }(),
      "test", NowMicros());
  ASSERT_TRUE(revoked.ok());
  ASSERT_TRUE(s_.server()
                  ->backend()
                  ->gate->credentials()
                  ->Revoke(revoked->credential().credential_id(), NowMicros())
                  .ok());
  for (const auto* m : AllMethods()) {
    for (const std::string& token :
         {forged, std::string("not-a-token"), revoked->token()}) {
      auto ctx = With(token);
      EXPECT_EQ(CallRaw(s_.channel(), ctx.get(), m).error_code(),
                grpc::StatusCode::UNAUTHENTICATED)
          << FullName(m) << " with " << token.substr(0, 12);
    }
  }
}

TEST_F(AccessTest, EveryRpcRefusesEveryRoleItDoesNotAllow) {
  int refusals = 0;
  for (const auto* m : AllMethods()) {
    const auto* policy = security::FindMethod(FullName(m));
    ASSERT_NE(policy, nullptr) << FullName(m);
    for (v1::Role role : {v1::ROLE_EHR, v1::ROLE_CLINICIAN,
                          v1::ROLE_CLINIC_ADMIN, v1::ROLE_OPERATOR}) {
      if (policy->roles & security::Bit(role)) continue;
      auto ctx = With(s_.Token(role == v1::ROLE_OPERATOR ? "" : "a", {role}));
      EXPECT_EQ(CallRaw(s_.channel(), ctx.get(), m).error_code(),
                grpc::StatusCode::PERMISSION_DENIED)
          << FullName(m) << " as " << security::RoleName(role);
      ++refusals;
    }
  }
  EXPECT_GT(refusals, 40);  // The table is not all-roles-everywhere.
}

TEST_F(AccessTest, EveryClinicRpcRefusesAHeaderNamingAnotherClinic) {
  const std::string b =
      s_.Token("b", {v1::ROLE_EHR, v1::ROLE_CLINICIAN, v1::ROLE_CLINIC_ADMIN});
  for (const auto* m : AllMethods()) {
    if (!security::FindMethod(FullName(m))->clinic_scoped) continue;
    auto ctx = With(b, "a");
    EXPECT_EQ(CallRaw(s_.channel(), ctx.get(), m).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << FullName(m);
  }
  // Twice the header is refused outright, even for the right clinic.
  auto twice = With(b, "b");
  twice->AddMetadata("x-clinic-id", "b");
  v1::ListPatientsRequest req;
  v1::ListPatientsResponse resp;
  EXPECT_EQ(s_.patients->ListPatients(twice.get(), req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AccessTest, ANoClinicCredentialCannotReachPatientData) {
  // An operator credential names no clinic: even with a header it gets none.
  auto ctx = With(s_.Token("", {v1::ROLE_OPERATOR}), "a");
  v1::ListPatientsRequest req;
  v1::ListPatientsResponse resp;
  EXPECT_EQ(s_.patients->ListPatients(ctx.get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AccessTest, OneClinicNeverSeesAnothersPatients) {
  ASSERT_TRUE(s_.AddPatient("p", "a").ok());
  ASSERT_TRUE(s_.Append("p", {RunEvent("r1", NowMicros() - kMicrosPerDay, 2)},
                        nullptr, "a")
                  .ok());
  v1::Evaluation ev;
  ASSERT_TRUE(s_.Evaluate("p", &ev, 0, "a").ok());
  const std::string b = "b";
  {
    v1::GetPatientRequest req;
    v1::GetPatientResponse resp;
    req.set_patient_id("p");
    EXPECT_EQ(s_.patients->GetPatient(s_.Ctx(b).get(), req, &resp).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    v1::ListPatientsRequest req;
    v1::ListPatientsResponse resp;
    ASSERT_TRUE(s_.patients->ListPatients(s_.Ctx(b).get(), req, &resp).ok());
    EXPECT_EQ(resp.patients_size(), 0);
  }
  {
    v1::GetEvaluationRequest req;
    v1::GetEvaluationResponse resp;
    req.set_patient_id("p");
    req.set_evaluation_id(ev.evaluation_id());
    EXPECT_EQ(
        s_.decisions->GetEvaluation(s_.Ctx(b).get(), req, &resp).error_code(),
        grpc::StatusCode::NOT_FOUND);
  }
  {
    v1::DeletePatientRequest req;
    v1::DeletePatientResponse resp;
    req.set_patient_id("p");
    EXPECT_EQ(
        s_.patients->DeletePatient(s_.Ctx(b).get(), req, &resp).error_code(),
        grpc::StatusCode::NOT_FOUND);
  }
  // Clinic a's patient is untouched.
  v1::GetPatientRequest req;
  v1::GetPatientResponse resp;
  req.set_patient_id("p");
  ASSERT_TRUE(s_.patients->GetPatient(s_.Ctx("a").get(), req, &resp).ok());
  EXPECT_EQ(resp.event_count(), 1);
}

TEST_F(AccessTest, EveryCallIsAuditedWithAPseudonymAndTheChainHolds) {
  ASSERT_TRUE(s_.AddPatient("anna-k", "a").ok());
  {
    v1::GetPatientRequest req;
    v1::GetPatientResponse resp;
    req.set_patient_id("anna-k");
    ASSERT_TRUE(s_.patients->GetPatient(s_.Ctx("a").get(), req, &resp).ok());
    // Refused: no credentials.
    EXPECT_FALSE(s_.patients->GetPatient(s_.Bare().get(), req, &resp).ok());
  }
  v1::ListAuditRequest req;
  req.set_limit(1000);
  v1::ListAuditResponse resp;
  ASSERT_TRUE(s_.audit->ListAudit(s_.OperatorCtx().get(), req, &resp).ok());
  int refused = 0, reads = 0;
  const std::string pseudonym =
      s_.server()->backend()->gate->secret()->Pseudonym("a", "anna-k");
  for (const auto& r : resp.records()) {
    EXPECT_EQ(r.DebugString().find("anna-k"), std::string::npos)
        << r.DebugString();
    if (r.outcome() == "UNAUTHENTICATED") ++refused;
    if (r.method() == "achilles.v1.PatientService/GetPatient" &&
        r.outcome() == "OK") {
      ++reads;
      EXPECT_EQ(r.patient_pseudonym(), pseudonym);
      EXPECT_EQ(r.clinic_id(), "a");
      EXPECT_NE(r.peer().find("127.0.0.1"), std::string::npos);
    }
  }
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(reads, 1);
  // Filtered by patient: the server computes the pseudonym.
  req.set_patient_id("anna-k");
  req.set_clinic_id("a");
  ASSERT_TRUE(s_.audit->ListAudit(s_.OperatorCtx().get(), req, &resp).ok());
  EXPECT_EQ(resp.records_size(), 2);  // Upsert and read.
  v1::VerifyAuditResponse verify;
  ASSERT_TRUE(s_.audit
                  ->VerifyAudit(s_.OperatorCtx().get(),
                                v1::VerifyAuditRequest(), &verify)
                  .ok());
  EXPECT_TRUE(verify.intact()) << verify.problem();
}

TEST_F(AccessTest, TamperingWithTheAuditTrailIsDetected) {
  ASSERT_TRUE(s_.AddPatient("p", "a").ok());
  ASSERT_TRUE(s_.AddPatient("q", "a").ok());
  // Rewrite entry 1 as an attacker with write access to the store would:
  // a plausible record, but without the server's secret to re-chain it.
  auto* store = s_.server()->backend()->store;
  auto first = store->ReadAudit(1, 1);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  v1::AuditRecord r;
  ASSERT_TRUE(r.ParseFromString((*first)[0].second));
  r.set_outcome("PERMISSION_DENIED");
  ASSERT_TRUE(store->AppendAudit({{1, r.SerializeAsString()}}).ok());
  v1::VerifyAuditResponse verify;
  ASSERT_TRUE(s_.audit
                  ->VerifyAudit(s_.OperatorCtx().get(),
                                v1::VerifyAuditRequest(), &verify)
                  .ok());
  EXPECT_FALSE(verify.intact());
  EXPECT_NE(verify.problem().find("entry 1"), std::string::npos)
      << verify.problem();
}

TEST_F(AccessTest, TheAuditChainContinuesAcrossRestarts) {
  ASSERT_TRUE(s_.AddPatient("p", "a").ok());
  s_.Restart();
  ASSERT_TRUE(s_.AddPatient("q", "a").ok());
  v1::VerifyAuditResponse verify;
  ASSERT_TRUE(s_.audit
                  ->VerifyAudit(s_.OperatorCtx().get(),
                                v1::VerifyAuditRequest(), &verify)
                  .ok());
  EXPECT_TRUE(verify.intact()) << verify.problem();
  EXPECT_GE(verify.records(), 2u);
}

TEST_F(AccessTest, OperatorsIssueAndRevokeTokensThatWorkAtOnce) {
  v1::IssueTokenRequest issue;
  issue.set_subject("front desk");
  issue.set_clinic_id("a");
  issue.add_roles(v1::ROLE_CLINICIAN);
  v1::IssueTokenResponse issued;
  ASSERT_TRUE(
      s_.credentials->IssueToken(s_.OperatorCtx().get(), issue, &issued).ok());
  EXPECT_TRUE(issued.credential().secret_sha256().empty());
  v1::ListPatientsRequest req;
  v1::ListPatientsResponse resp;
  EXPECT_TRUE(
      s_.patients->ListPatients(With(issued.token()).get(), req, &resp).ok());
  v1::RevokeTokenRequest revoke;
  revoke.set_credential_id(issued.credential().credential_id());
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(
      s_.credentials->RevokeToken(s_.OperatorCtx().get(), revoke, &revoked)
          .ok());
  EXPECT_EQ(s_.patients->ListPatients(With(issued.token()).get(), req, &resp)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Bad requests name the field.
  issue.clear_roles();
  auto st = s_.credentials->IssueToken(s_.OperatorCtx().get(), issue, &issued);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("roles"), std::string::npos);
  // A clinic credential cannot issue tokens.
  issue.add_roles(v1::ROLE_OPERATOR);
  issue.clear_clinic_id();
  EXPECT_EQ(s_.credentials->IssueToken(s_.Ctx("a").get(), issue, &issued)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AccessTest, ExpiredTokensAreRefused) {
  v1::IssueTokenRequest req;
  req.set_subject("temp");
  req.set_clinic_id("a");
  req.add_roles(v1::ROLE_EHR);
  req.set_valid_days(1);
  auto* credentials = s_.server()->backend()->gate->credentials();
  // Issued two days ago, valid for one.
  auto issued =
      credentials->Issue(req, "test", NowMicros() - 2 * kMicrosPerDay);
  ASSERT_TRUE(issued.ok());
  auto st = credentials->Verify(issued->token(), NowMicros(), "");
  EXPECT_TRUE(absl::IsUnauthenticated(st.status()));
  EXPECT_NE(st.status().message().find("expired"), std::string::npos);
}

}  // namespace
}  // namespace achilles::testing
