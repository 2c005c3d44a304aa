// achillesctl backup: online backups through the server (create, and the
// named checkpoints), and the offline operations on a backup directory
// (list, verify, restore), run on the server's host with the server
// stopped for a restore. services/backup/backup.h has the layout.
#ifndef ACHILLES_CLI_BACKUP_COMMANDS_H_
#define ACHILLES_CLI_BACKUP_COMMANDS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace achilles::cli {

// `args` starts with "backup". Returns the exit status.
int RunBackup(const std::shared_ptr<grpc::Channel>& channel,
              const std::vector<std::string>& args, bool json);

}  // namespace achilles::cli

#endif  // ACHILLES_CLI_BACKUP_COMMANDS_H_
