#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "services/api/api.h"
#include "services/validation/requests.h"

namespace achilles::api {

void FillPluginInfos(const plugins::PluginSet& set,
                     const v1::ClinicPolicy& policy,
                     google::protobuf::RepeatedPtrField<v1::PluginInfo>* out) {
  for (const auto& rec : set.records) {
    auto* info = out->Add();
    info->set_plugin_id(rec.id);
    info->set_version(rec.version);
    info->set_display_name(rec.display_name);
    info->set_abi_version(rec.abi_version);
    for (const auto& p : rec.protocols) info->add_protocols(p);
    for (const auto& k : rec.event_kinds) info->add_event_kinds(k);
    info->set_file(rec.file);
    info->set_sha256(rec.sha256);
    info->set_state(rec.loaded ? v1::PLUGIN_STATE_LOADED
                               : v1::PLUGIN_STATE_REJECTED);
    info->set_reason(rec.reason);
    info->set_enabled_for_clinic(
        rec.loaded && std::find(policy.disabled_plugins().begin(),
                                policy.disabled_plugins().end(),
                                rec.id) == policy.disabled_plugins().end());
  }
}

namespace {

// The clinic's policy; operators name no clinic and see the defaults.
absl::StatusOr<v1::ClinicPolicy> PolicyFor(engine::Engine& engine,
                                           const std::string& clinic) {
  if (clinic.empty()) return engine::DefaultPolicy();
  return engine.CurrentPolicy(clinic);
}

}  // namespace

grpc::ServerUnaryReactor* PluginServiceImpl::ListPlugins(
    grpc::CallbackServerContext* ctx, const v1::ListPluginsRequest* req,
    v1::ListPluginsResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.PluginService/ListPlugins", *req, "",
               [=](const security::Caller& caller) -> absl::Status {
                 const std::string* clinic = &caller.clinic;
                 auto policy = PolicyFor(*b_->engine, *clinic);
                 if (!policy.ok()) return policy.status();
                 FillPluginInfos(*b_->host->Current(), *policy,
                                 resp->mutable_plugins());
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* PluginServiceImpl::ReloadPlugins(
    grpc::CallbackServerContext* ctx, const v1::ReloadPluginsRequest* req,
    v1::ReloadPluginsResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.PluginService/ReloadPlugins", *req, "",
               [=](const security::Caller& caller) -> absl::Status {
                 const std::string* clinic = &caller.clinic;
                 auto result = b_->host->Reload();
                 if (!result.ok()) return result.status();
                 for (const auto& id : result->added) resp->add_added(id);
                 for (const auto& id : result->removed) resp->add_removed(id);
                 for (const auto& id : result->changed) resp->add_changed(id);
                 auto policy = PolicyFor(*b_->engine, *clinic);
                 if (!policy.ok()) return policy.status();
                 FillPluginInfos(*b_->host->Current(), *policy,
                                 resp->mutable_plugins());
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* PluginServiceImpl::EnablePlugin(
    grpc::CallbackServerContext* ctx, const v1::SetPluginEnabledRequest* req,
    v1::SetPluginEnabledResponse* resp) {
  return SetEnabled(ctx, req, resp, true);
}

grpc::ServerUnaryReactor* PluginServiceImpl::DisablePlugin(
    grpc::CallbackServerContext* ctx, const v1::SetPluginEnabledRequest* req,
    v1::SetPluginEnabledResponse* resp) {
  return SetEnabled(ctx, req, resp, false);
}

grpc::ServerUnaryReactor* PluginServiceImpl::SetEnabled(
    grpc::CallbackServerContext* ctx, const v1::SetPluginEnabledRequest* req,
    v1::SetPluginEnabledResponse* resp, bool enabled) {
  return Serve(
      ctx, b_,
      enabled ? "achilles.v1.PluginService/EnablePlugin"
              : "achilles.v1.PluginService/DisablePlugin",
      *req, "", [=](const security::Caller& caller) -> absl::Status {
        const std::string* clinic = &caller.clinic;
        ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
        const auto set = b_->host->Current();
        if (std::none_of(set->plugins.begin(), set->plugins.end(),
                         [&](const auto& p) {
                           return p->record().id == req->plugin_id();
                         })) {
          return absl::NotFoundError(absl::StrCat(
              "plugin_id: '", req->plugin_id(), "' is not a loaded plugin"));
        }
        // Read-modify-write with optimistic concurrency: retry if another admin
        // changed the policy in between.
        for (int attempt = 0; attempt < 5; ++attempt) {
          auto policy = b_->engine->CurrentPolicy(*clinic);
          if (!policy.ok()) return policy.status();
          const int64_t expected = policy->version();
          auto* disabled = policy->mutable_disabled_plugins();
          auto it =
              std::find(disabled->begin(), disabled->end(), req->plugin_id());
          if (enabled && it != disabled->end()) disabled->erase(it);
          if (!enabled && it == disabled->end())
            *disabled->Add() = req->plugin_id();
          policy->set_changed_by(req->changed_by());
          policy->set_change_reason(
              absl::StrCat(enabled ? "enable plugin " : "disable plugin ",
                           req->plugin_id()));
          engine::NormalizePolicy(&*policy);
          absl::Status st = b_->engine->SetPolicy(*clinic, *policy, expected);
          if (absl::IsFailedPrecondition(st)) continue;
          if (!st.ok()) return st;
          *resp->mutable_policy() = *policy;
          return absl::OkStatus();
        }
        return absl::AbortedError("policy kept changing; try again");
      });
}

grpc::ServerUnaryReactor* PolicyServiceImpl::GetPolicy(
    grpc::CallbackServerContext* ctx, const v1::GetPolicyRequest* req,
    v1::GetPolicyResponse* resp) {
  return Serve(ctx, b_, "achilles.v1.PolicyService/GetPolicy", *req, "",
               [=](const security::Caller& caller) -> absl::Status {
                 const std::string* clinic = &caller.clinic;
                 ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
                 if (req->version() == 0) {
                   auto policy = b_->engine->CurrentPolicy(*clinic);
                   if (!policy.ok()) return policy.status();
                   *resp->mutable_policy() = *policy;
                   return absl::OkStatus();
                 }
                 auto policy = b_->store->GetPolicy(*clinic, req->version());
                 if (!policy.ok()) return policy.status();
                 engine::NormalizePolicy(&*policy);
                 *resp->mutable_policy() = *policy;
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* PolicyServiceImpl::SetPolicy(
    grpc::CallbackServerContext* ctx, const v1::SetPolicyRequest* req,
    v1::SetPolicyResponse* resp) {
  return Serve(
      ctx, b_, "achilles.v1.PolicyService/SetPolicy", *req, "",
      [=](const security::Caller& caller) -> absl::Status {
        const std::string* clinic = &caller.clinic;
        ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
        v1::ClinicPolicy policy = req->policy();
        engine::NormalizePolicy(&policy);
        ACH_RETURN_IF_ERROR(b_->engine->SetPolicy(
            *clinic, policy,
            req->has_expected_version() ? req->expected_version() : -1));
        *resp->mutable_policy() = policy;
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* StoreServiceImpl::Checkpoint(
    grpc::CallbackServerContext* ctx, const v1::CheckpointRequest* req,
    v1::CheckpointResponse* resp) {
  return Serve(
      ctx, b_, "achilles.v1.StoreService/Checkpoint", *req, "",
      [=](const security::Caller&) -> absl::Status {
        if (backup_dir_.empty()) {
          return absl::FailedPreconditionError(
              "backups are off: start the server with --backup_dir=DIR");
        }
        ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
        if (backup::IsReservedName(req->name())) {
          return absl::InvalidArgumentError(absl::StrCat(
              "name: '", req->name(), "' is the backup directory's own"));
        }
        const std::string path = absl::StrCat(backup_dir_, "/", req->name());
        std::error_code ec;
        if (std::filesystem::exists(path, ec)) {
          return absl::AlreadyExistsError(absl::StrCat(
              "name: a backup '", req->name(), "' already exists"));
        }
        std::filesystem::create_directories(backup_dir_, ec);
        ACH_RETURN_IF_ERROR(b_->store->Checkpoint(path));
        resp->set_path(path);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* StoreServiceImpl::Backup(
    grpc::CallbackServerContext* ctx, const v1::BackupRequest* req,
    v1::BackupResponse* resp) {
  return Serve(
      ctx, b_, "achilles.v1.StoreService/Backup", *req, "",
      [=](const security::Caller&) -> absl::Status {
        if (backup_dir_.empty()) {
          return absl::FailedPreconditionError(
              "backups are off: start the server with --backup_dir=DIR");
        }
        ACH_RETURN_IF_ERROR(validation::ValidateRequest(*req));
        auto made = b_->store->CreateBackup(
            absl::StrCat(backup_dir_, "/", backup::kEngineDir),
            req->keep() > 0 ? req->keep() : keep_);
        if (!made.ok()) return made.status();
        v1::BackupInfo* info = resp->mutable_created();
        info->set_backup_id(made->id);
        info->set_created_unix_seconds(made->created_unix_seconds);
        info->set_size_bytes(made->size_bytes);
        info->set_files(made->files);
        return absl::OkStatus();
      });
}

}  // namespace achilles::api
