// Which roles may call which RPC. docs/SECURITY.md has the same table for
// people; tests/security checks this one covers every method of every
// achilles.v1 service and nothing else.
#include "absl/strings/str_cat.h"
#include "services/security/security.h"

namespace achilles::security {
namespace {

constexpr RoleSet kEhr = Bit(v1::ROLE_EHR);
constexpr RoleSet kClinician = Bit(v1::ROLE_CLINICIAN);
constexpr RoleSet kAdmin = Bit(v1::ROLE_CLINIC_ADMIN);
constexpr RoleSet kOperator = Bit(v1::ROLE_OPERATOR);
constexpr bool kClinic = true;   // Acts inside the caller's clinic.
constexpr bool kServer = false;  // Server-wide.
constexpr bool kAudited = true;

std::vector<MethodPolicy> BuildTable() {
  auto m = [](const char* name, RoleSet roles, bool clinic, bool audited) {
    return MethodPolicy{name, roles, clinic, audited};
  };
  return {
      m("achilles.v1.PatientService/UpsertPatient", kEhr, kClinic, kAudited),
      m("achilles.v1.PatientService/GetPatient", kEhr | kClinician, kClinic,
        kAudited),
      // Erasure: the EHR relays it, or the clinic's administrator runs it.
      m("achilles.v1.PatientService/DeletePatient", kEhr | kAdmin, kClinic,
        kAudited),
      m("achilles.v1.PatientService/AppendEvents", kEhr, kClinic, kAudited),
      m("achilles.v1.PatientService/ListEvents", kEhr | kClinician, kClinic,
        kAudited),
      m("achilles.v1.PatientService/ListPatients", kEhr | kClinician, kClinic,
        kAudited),
      m("achilles.v1.DecisionService/Evaluate", kEhr, kClinic, kAudited),
      m("achilles.v1.DecisionService/GetEvaluation", kEhr | kClinician, kClinic,
        kAudited),
      // Feedback comes from clinicians directly or through their EHR.
      m("achilles.v1.DecisionService/RecordFeedback", kClinician | kEhr,
        kClinic, kAudited),
      m("achilles.v1.DecisionService/Ping", kAnyRole, kServer, !kAudited),
      m("achilles.v1.PluginService/ListPlugins", kAnyRole, kServer, !kAudited),
      m("achilles.v1.PluginService/ReloadPlugins", kOperator, kServer,
        kAudited),
      m("achilles.v1.PluginService/EnablePlugin", kAdmin, kClinic, kAudited),
      m("achilles.v1.PluginService/DisablePlugin", kAdmin, kClinic, kAudited),
      m("achilles.v1.PolicyService/GetPolicy", kAdmin | kClinician | kEhr,
        kClinic, kAudited),
      m("achilles.v1.PolicyService/SetPolicy", kAdmin, kClinic, kAudited),
      m("achilles.v1.CaseloadService/ReEvaluate", kAdmin, kClinic, kAudited),
      m("achilles.v1.CaseloadService/Worklist", kClinician | kAdmin, kClinic,
        kAudited),
      m("achilles.v1.StoreService/Checkpoint", kOperator, kServer, kAudited),
      m("achilles.v1.StoreService/Backup", kOperator, kServer, kAudited),
      m("achilles.v1.CredentialService/IssueToken", kOperator, kServer,
        kAudited),
      m("achilles.v1.CredentialService/RevokeToken", kOperator, kServer,
        kAudited),
      m("achilles.v1.CredentialService/ListTokens", kOperator, kServer,
        kAudited),
      m("achilles.v1.AuditService/ListAudit", kOperator, kServer, kAudited),
      m("achilles.v1.AuditService/VerifyAudit", kOperator, kServer, kAudited),
  };
}

}  // namespace

const std::vector<MethodPolicy>& MethodTable() {
  static const auto* table = new std::vector<MethodPolicy>(BuildTable());
  return *table;
}

const MethodPolicy* FindMethod(const std::string& full_name) {
  for (const auto& m : MethodTable()) {
    if (full_name == m.name) return &m;
  }
  return nullptr;
}

}  // namespace achilles::security
