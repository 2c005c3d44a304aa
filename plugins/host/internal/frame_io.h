// Length-prefixed frames over a stream socket: 4-byte little-endian length,
// then the bytes. Used between the host and isolated plugin workers.
// Internal to plugins/host.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_FRAME_IO_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_FRAME_IO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace achilles::plugins_internal {

inline constexpr size_t kMaxFrame = 64 << 20;

// UNAVAILABLE when the peer is gone.
absl::Status WriteFrame(int fd, absl::string_view bytes);
// DEADLINE_EXCEEDED at `deadline`; UNAVAILABLE on end of stream; INTERNAL
// for an oversized frame. absl::InfiniteFuture() waits forever.
absl::StatusOr<std::string> ReadFrame(int fd, absl::Time deadline);

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_FRAME_IO_H_
