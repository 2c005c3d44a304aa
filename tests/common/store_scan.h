// Reads every key and value of a RocksDB store directly (read-only, every
// column family), for tests that must show a string is gone from the
// store: an erased patient's id in no key and no value. Works while a
// server has the store open (read-only opens take no lock).
#ifndef ACHILLES_TESTS_COMMON_STORE_SCAN_H_
#define ACHILLES_TESTS_COMMON_STORE_SCAN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace achilles::testing {

// "<family>: <key>" for every entry whose key or value contains `needle`.
absl::StatusOr<std::vector<std::string>> StoreEntriesContaining(
    const std::string& db_path, const std::string& needle);

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_COMMON_STORE_SCAN_H_
