// SHA-256 helpers shared by storage (pseudonymous audit keys), the plugin host
// (file digests for the allowlist) and the engine (input fingerprints).
//
// Thread-safe; no state.
#ifndef ACHILLES_COMMON_DIGEST_H_
#define ACHILLES_COMMON_DIGEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace achilles {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// Lower-case hex SHA-256 of a file's bytes; NOT_FOUND or INTERNAL naming the
// path when it cannot be read.
absl::StatusOr<std::string> Sha256FileHex(const std::string& path);

}  // namespace achilles

#endif  // ACHILLES_COMMON_DIGEST_H_
