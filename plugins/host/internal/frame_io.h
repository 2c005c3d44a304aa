// Length-prefixed frames over a stream socket: 4-byte little-endian length,
// then the bytes. Used between the host and isolated plugin workers, where
// at most one frame is in flight each way at a time. Internal to
// plugins/host.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_FRAME_IO_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_FRAME_IO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "plugins/host/internal/byte_buffer.h"

namespace achilles::plugins_internal {

inline constexpr size_t kMaxFrame = 64 << 20;

// Sends the length and the bytes with one system call when the socket takes
// them at once. UNAVAILABLE when the peer is gone; INTERNAL when `bytes`
// exceeds kMaxFrame (nothing is sent).
absl::Status WriteFrame(int fd, absl::string_view bytes);

// Reads one frame into `out` (reused: it grows only for a larger frame).
// DEADLINE_EXCEEDED at `deadline`; UNAVAILABLE on end of stream; INTERNAL
// for a length above kMaxFrame. absl::InfiniteFuture() waits forever. On
// error `out` holds nothing usable.
absl::Status ReadFrame(int fd, absl::Time deadline, ByteBuffer* out);

// The same, into a string of its own, for callers that keep the frame.
absl::StatusOr<std::string> ReadFrame(int fd, absl::Time deadline);

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_FRAME_IO_H_
