// achillesctl caseload fanout CHAIN_FILE [--dry_run]: re-evaluates the
// caseloads of many clinics at once, each on the shard that holds it, and
// prints one line per clinic and the totals. For a clinic chain in shards
// (docs/SCALING.md) after a plugin or policy change.
//
// CHAIN_FILE has one clinic per line, "CLINIC SERVER TOKEN_FILE" (blank
// lines and #-comments ignored): SERVER is the clinic router or the
// shard's own address, TOKEN_FILE a token of that clinic with the
// clinic-admin role. The --tls_* flags apply to every connection. Runs go
// at most --fanout_parallel at a time. Exit 0 when every clinic's run
// finished, 1 when any failed (each failed line says how to resume it), 2
// for a malformed file.
#ifndef ACHILLES_CLI_FANOUT_COMMAND_H_
#define ACHILLES_CLI_FANOUT_COMMAND_H_

#include <string>
#include <vector>

namespace achilles::cli {

// `args` starts with "caseload", "fanout". Returns the exit status.
int RunFanout(const std::vector<std::string>& args);

}  // namespace achilles::cli

#endif  // ACHILLES_CLI_FANOUT_COMMAND_H_
