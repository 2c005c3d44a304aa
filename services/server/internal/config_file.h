// The server's configuration file: YAML, one key per command-line flag
// (same names, same value syntax), applied before the command line is
// parsed so that flags given there override it. Internal to
// services/server.
//
//   # /etc/achilles/server.yaml
//   listen: 127.0.0.1:50051
//   data_dir: /var/lib/achilles
//   metrics_address: 127.0.0.1:9464
//   plugin_allowlist: [<sha256>, <sha256>]   # a list joins with commas
//
// Why YAML and not absl's --flagfile: comments, lists, and an error that
// names the key and its line, for a file operators edit by hand.
#ifndef ACHILLES_SERVICES_SERVER_INTERNAL_CONFIG_FILE_H_
#define ACHILLES_SERVICES_SERVER_INTERNAL_CONFIG_FILE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace achilles::server_internal {

// The path given by --config=PATH or --config PATH in argv ("" when none).
std::string ConfigPathFromArgs(int argc, char** argv);

// Sets each key's flag from the file at `path`. INVALID_ARGUMENT naming the
// file, line and key for: a file that is not a YAML mapping, an unknown
// key, a key that only makes sense on the command line (config, version,
// check_config, help, flagfile), a nested mapping, or a value the flag
// rejects (with the flag's reason); NOT_FOUND when the file cannot be read.
// Keys already applied stay applied when a later one fails; the caller
// exits then.
absl::Status ApplyConfigFile(const std::string& path);

}  // namespace achilles::server_internal

#endif  // ACHILLES_SERVICES_SERVER_INTERNAL_CONFIG_FILE_H_
