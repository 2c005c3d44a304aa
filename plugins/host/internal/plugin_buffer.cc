#include "plugins/host/internal/plugin_buffer.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace achilles::plugins_internal {

absl::Status CopyPluginBuffer(const uint8_t* data, size_t size,
                              ByteBuffer* out) {
  out->Clear();
  if (size > kMaxPluginResponse) {
    return absl::InternalError(
        absl::StrCat("plugin claims a response of ", size,
                     " bytes, more than the limit of ", kMaxPluginResponse));
  }
  if (size == 0) return absl::OkStatus();
  char* copy = out->Resize(size);
  // process_vm_readv on our own pid copies like memcpy but returns EFAULT
  // (or a short count) at an unmapped page instead of faulting.
  iovec local{copy, size};
  iovec remote{const_cast<uint8_t*>(data), size};
  const ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(size)) return absl::OkStatus();
  if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
    // A kernel or container policy without process_vm_readv: the size is
    // then trusted as the ABI says, and a lie faults here.
    std::memcpy(copy, data, size);
    return absl::OkStatus();
  }
  const size_t readable = n < 0 ? 0 : static_cast<size_t>(n);
  out->Clear();
  return absl::InternalError(absl::StrCat(
      "plugin claims a response of ", size, " bytes but only ", readable,
      " are readable: its size does not match its buffer"));
}

}  // namespace achilles::plugins_internal
