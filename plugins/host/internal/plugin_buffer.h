// Copying a response buffer out of a plugin without trusting the size the
// plugin claims for it. Internal to plugins/host.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_BUFFER_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_BUFFER_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "plugins/host/internal/byte_buffer.h"

namespace achilles::plugins_internal {

// The largest response a plugin may return; a claim above it is refused
// before any byte is read (a worker's reply must fit one frame).
inline constexpr size_t kMaxPluginResponse = 16 << 20;

// Copies `size` bytes at `data` into `*out`. INTERNAL, with nothing read,
// when `size` exceeds kMaxPluginResponse; INTERNAL when the range runs into
// memory that is not mapped readable (the copy goes through the kernel,
// which reports the fault instead of raising SIGSEGV). What this cannot
// catch: a size that overruns the buffer into other readable memory of the
// process; those bytes are copied (and then, almost always, fail to parse).
absl::Status CopyPluginBuffer(const uint8_t* data, size_t size,
                              ByteBuffer* out);

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_PLUGIN_BUFFER_H_
