#include "cli/backup_commands.h"

#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "achilles/v1/admin_service.grpc.pb.h"
#include "cli/connection.h"
#include "cli/format.h"
#include "services/backup/backup.h"

ABSL_FLAG(int, keep, 0,
          "backup create: backups to keep (0 = the server's --backup_keep)");
ABSL_FLAG(std::string, backup_dir, "",
          "backup list/verify/restore: the server's --backup_dir");
ABSL_FLAG(std::string, data_dir, "",
          "backup restore: a new, empty data dir to restore into");
ABSL_FLAG(int64_t, backup_id, 0,
          "backup verify/restore: which backup (0 = verify all / restore the "
          "newest)");

namespace achilles::cli {
namespace {

namespace v1 = achilles::v1;

std::string EngineDir() {
  return absl::GetFlag(FLAGS_backup_dir) + "/" + backup::kEngineDir;
}

int Offline(const absl::Status& st) {
  std::fprintf(stderr, "error: %s\n", std::string(st.message()).c_str());
  return absl::IsInvalidArgument(st) ? 2 : 1;
}

std::string When(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

int Create(const std::shared_ptr<grpc::Channel>& channel, bool json) {
  auto stub = v1::StoreService::NewStub(channel);
  grpc::ClientContext ctx;
  Decorate(&ctx, /*deadline=*/false);
  v1::BackupRequest req;
  req.set_keep(absl::GetFlag(FLAGS_keep));
  v1::BackupResponse resp;
  auto st = stub->Backup(&ctx, req, &resp);
  if (!st.ok()) return PrintRpcError(st);
  if (json) return std::cout << JsonLine(resp) << "\n", 0;
  std::printf("backup %u: %llu bytes in %u files (on the server)\n",
              resp.created().backup_id(),
              static_cast<unsigned long long>(resp.created().size_bytes()),
              resp.created().files());
  return 0;
}

int List(bool json) {
  auto backups = storage::ListBackups(EngineDir());
  if (!backups.ok()) return Offline(backups.status());
  if (json) std::printf("{\"backups\": [");
  bool first = true;
  for (const auto& b : *backups) {
    if (json) {
      std::printf(
          "%s{\"backup_id\": %u, \"created\": \"%s\", \"size_bytes\": "
          "%llu, \"files\": %u}",
          first ? "" : ", ", b.id, When(b.created_unix_seconds).c_str(),
          static_cast<unsigned long long>(b.size_bytes), b.files);
    } else {
      std::printf("%-6u %s  %12llu bytes  %u files\n", b.id,
                  When(b.created_unix_seconds).c_str(),
                  static_cast<unsigned long long>(b.size_bytes), b.files);
    }
    first = false;
  }
  if (json) std::printf("]}\n");
  return 0;
}

int Verify() {
  auto backups = storage::ListBackups(EngineDir());
  if (!backups.ok()) return Offline(backups.status());
  const int64_t only = absl::GetFlag(FLAGS_backup_id);
  int bad = 0, checked = 0;
  for (const auto& b : *backups) {
    if (only != 0 && b.id != only) continue;
    ++checked;
    absl::Status st = storage::VerifyBackup(EngineDir(), b.id);
    std::printf("backup %u: %s\n", b.id,
                st.ok() ? "OK" : std::string(st.message()).c_str());
    if (!st.ok()) ++bad;
  }
  if (checked == 0) {
    return Offline(absl::NotFoundError("no such backup"));
  }
  return bad == 0 ? 0 : 1;
}

int Restore() {
  if (absl::GetFlag(FLAGS_data_dir).empty()) {
    return UsageError("backup restore needs --data_dir (a new directory)");
  }
  auto report =
      backup::Restore(absl::GetFlag(FLAGS_backup_dir),
                      static_cast<uint32_t>(absl::GetFlag(FLAGS_backup_id)),
                      absl::GetFlag(FLAGS_data_dir));
  if (!report.ok()) return Offline(report.status());
  std::printf(
      "restored backup %u (%s) into %s; erased again %d patient(s) the "
      "erasure log names. Start the server on it with "
      "--data_dir=%s.\n",
      report->backup.id, When(report->backup.created_unix_seconds).c_str(),
      absl::GetFlag(FLAGS_data_dir).c_str(), report->erasures_reapplied,
      absl::GetFlag(FLAGS_data_dir).c_str());
  return 0;
}

}  // namespace

int RunBackup(const std::shared_ptr<grpc::Channel>& channel,
              const std::vector<std::string>& args, bool json) {
  const std::string sub = args.size() > 1 ? args[1] : "";
  if (sub == "create") return Create(channel, json);
  if (absl::GetFlag(FLAGS_backup_dir).empty()) {
    return UsageError("backup " + sub + " needs --backup_dir");
  }
  if (sub == "list") return List(json);
  if (sub == "verify") return Verify();
  if (sub == "restore") return Restore();
  return UsageError("backup: create, list, verify, restore or NAME");
}

}  // namespace achilles::cli
