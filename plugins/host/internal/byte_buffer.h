// A byte buffer that grows without initialising what it adds, for frames
// and plugin responses that are about to be overwritten anyway
// (std::string::resize zero-fills every byte first). Reused across calls,
// it allocates only when a message is larger than any before it. Internal
// to plugins/host. Not thread-safe.
#ifndef ACHILLES_PLUGINS_HOST_INTERNAL_BYTE_BUFFER_H_
#define ACHILLES_PLUGINS_HOST_INTERNAL_BYTE_BUFFER_H_

#include <cstddef>
#include <memory>

#include "absl/strings/string_view.h"

namespace achilles::plugins_internal {

class ByteBuffer {
 public:
  // Makes the buffer `size` bytes long and returns where they start. The
  // bytes are unspecified (earlier contents are not kept when it grows).
  char* Resize(size_t size) {
    if (size > capacity_) {
      // Plain new[] of char leaves the bytes uninitialised.
      data_.reset(new char[size]);
      capacity_ = size;
    }
    size_ = size;
    return data_.get();
  }
  void Clear() { size_ = 0; }
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  absl::string_view view() const { return absl::string_view(data(), size_); }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace achilles::plugins_internal

#endif  // ACHILLES_PLUGINS_HOST_INTERNAL_BYTE_BUFFER_H_
