// The data dir's format version: the file <data_dir>/FORMAT, one line
// "achilles-data-format N", written atomically (temporary file, fsync,
// rename, directory fsync). Internal to services/server.
//
// Versions:
//   1  the layout before the marker existed (a data dir with a store and no
//      FORMAT file is format 1).
//   2  format 1 plus the FORMAT file. Migrating 1 -> 2 changes no data: it
//      records the version once the store has opened cleanly, so that a
//      later server can tell its own layout from an older one.
// A future layout change adds a version and one step in data_format.cc's
// step table; steps run in order, each followed by writing its version, so
// a migration interrupted by a crash resumes at the step that did not
// finish (each step must therefore be safe to run again).
#ifndef ACHILLES_SERVICES_SERVER_INTERNAL_DATA_FORMAT_H_
#define ACHILLES_SERVICES_SERVER_INTERNAL_DATA_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "storage/timeline_store.h"

namespace achilles::server_internal {

inline constexpr int kDataFormat = 2;
inline constexpr char kFormatFile[] = "FORMAT";

// What the data dir holds before the store is opened: its format version
// (1 for a store without a FORMAT file, 0 for a new or empty dir).
// FAILED_PRECONDITION when the version is newer than kDataFormat (naming
// both and what to do), DATA_LOSS when the FORMAT file cannot be read or
// parsed (naming it).
absl::StatusOr<int> ReadDataFormat(const std::string& data_dir);

// After the store has opened: runs the migration steps from `found` to
// kDataFormat (logging each) and writes the FORMAT file; for `found` = 0
// (a new dir) only writes it. The error of the step that failed, naming
// it; the FORMAT file then still says the last version reached.
absl::Status MigrateDataFormat(const std::string& data_dir, int found,
                               storage::TimelineStore* store);

// Writes `version` to <data_dir>/FORMAT atomically. INTERNAL naming the
// path on failure.
absl::Status WriteDataFormat(const std::string& data_dir, int version);

}  // namespace achilles::server_internal

#endif  // ACHILLES_SERVICES_SERVER_INTERNAL_DATA_FORMAT_H_
