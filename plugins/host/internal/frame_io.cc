#include "plugins/host/internal/frame_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace achilles::plugins_internal {
namespace {

absl::Status WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    // MSG_NOSIGNAL: a dead peer is an error here, not a SIGPIPE that would
    // kill the server.
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(
          absl::StrCat("worker connection lost: ", std::strerror(errno)));
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::Status ReadAll(int fd, char* data, size_t n, absl::Time deadline) {
  while (n > 0) {
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError("deadline passed");
      }
      timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    }
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
    if (r == 0) return absl::DeadlineExceededError("deadline passed");
    ssize_t got = recv(fd, data, n, 0);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return absl::UnavailableError(
          absl::StrCat("worker connection lost: ", std::strerror(errno)));
    }
    if (got == 0) return absl::UnavailableError("worker closed the connection");
    data += got;
    n -= static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFrame(int fd, absl::string_view bytes) {
  if (bytes.size() > kMaxFrame) {
    return absl::InternalError("frame larger than 64 MiB");
  }
  const uint32_t n = static_cast<uint32_t>(bytes.size());
  char header[4] = {static_cast<char>(n & 0xff), static_cast<char>(n >> 8),
                    static_cast<char>(n >> 16), static_cast<char>(n >> 24)};
  if (auto st = WriteAll(fd, header, 4); !st.ok()) return st;
  return WriteAll(fd, bytes.data(), bytes.size());
}

absl::StatusOr<std::string> ReadFrame(int fd, absl::Time deadline) {
  unsigned char header[4];
  if (auto st = ReadAll(fd, reinterpret_cast<char*>(header), 4, deadline);
      !st.ok()) {
    return st;
  }
  const uint32_t n = header[0] | (header[1] << 8) | (header[2] << 16) |
                     (static_cast<uint32_t>(header[3]) << 24);
  if (n > kMaxFrame) return absl::InternalError("frame larger than 64 MiB");
  std::string out(n, '\0');
  if (auto st = ReadAll(fd, out.data(), n, deadline); !st.ok()) return st;
  return out;
}

}  // namespace achilles::plugins_internal
