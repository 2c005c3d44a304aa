// The other half of power_loss_shim.cc: turns the durable image the shim kept
// into the directory a power cut would have left. Test-only.
#ifndef ACHILLES_TESTS_POWER_LOSS_DURABLE_IMAGE_H_
#define ACHILLES_TESTS_POWER_LOSS_DURABLE_IMAGE_H_

#include <string>

#include "absl/status/status.h"

namespace achilles::testing {

// Empties `dir` and fills it from `image` (IMAGE/names, IMAGE/ids/<id>):
// every durable name with its durable bytes, an empty file for a name whose
// bytes were never synced. FAILED_PRECONDITION when `image` has no names
// file (the shim never ran); INTERNAL on a malformed image or an I/O error.
absl::Status RestoreDurableImage(const std::string& image,
                                 const std::string& dir);

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_POWER_LOSS_DURABLE_IMAGE_H_
