#include "plugins/host/internal/frame_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace achilles::plugins_internal {
namespace {

absl::Status Lost() {
  return absl::UnavailableError(
      absl::StrCat("worker connection lost: ", std::strerror(errno)));
}

// Waits until `fd` is readable or `deadline` passes. Bytes that arrived in
// time are read even after the deadline (a batch collects its replies one
// after another), so a past deadline still looks once.
absl::Status AwaitReadable(int fd, absl::Time deadline) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      timeout_ms = left <= absl::ZeroDuration()
                       ? 0
                       : static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    }
    pollfd p{fd, POLLIN, 0};
    const int r = poll(&p, 1, timeout_ms);
    if (r > 0) return absl::OkStatus();
    if (r == 0) return absl::DeadlineExceededError("deadline passed");
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
  }
}

// Reads exactly `n` bytes. `poll_first`: the bytes are probably not there
// yet (a reply being computed), so wait before the first read instead of
// spending a system call to learn that. Without a deadline the socket's
// own blocking read waits.
absl::Status ReadAll(int fd, char* data, size_t n, absl::Time deadline,
                     bool poll_first) {
  const bool forever = deadline == absl::InfiniteFuture();
  bool wait = poll_first && !forever;
  while (n > 0) {
    if (wait) {
      if (absl::Status st = AwaitReadable(fd, deadline); !st.ok()) return st;
    }
    const ssize_t got = recv(fd, data, n, forever ? 0 : MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) continue;
      wait = errno == EAGAIN || errno == EWOULDBLOCK;
      if (!wait) return Lost();
      continue;
    }
    if (got == 0) return absl::UnavailableError("worker closed the connection");
    data += got;
    n -= static_cast<size_t>(got);
    wait = false;
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
  iovec iov[2] = {{header, sizeof header},
                  {const_cast<char*>(bytes.data()), bytes.size()}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  while (msg.msg_iovlen > 0) {
    // MSG_NOSIGNAL: a dead peer is an error here, not a SIGPIPE that would
    // kill the server.
    ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Lost();
    }
    // A partial send (interrupted by a signal): skip what went and send
    // the rest.
    size_t sent = static_cast<size_t>(w);
    while (msg.msg_iovlen > 0 && sent >= msg.msg_iov->iov_len) {
      sent -= msg.msg_iov->iov_len;
      ++msg.msg_iov;
      --msg.msg_iovlen;
    }
    if (msg.msg_iovlen > 0) {
      msg.msg_iov->iov_base = static_cast<char*>(msg.msg_iov->iov_base) + sent;
      msg.msg_iov->iov_len -= sent;
    }
  }
  return absl::OkStatus();
}

absl::Status ReadFrame(int fd, absl::Time deadline, ByteBuffer* out) {
  out->Clear();
  unsigned char header[4];
  if (auto st = ReadAll(fd, reinterpret_cast<char*>(header), 4, deadline,
                        /*poll_first=*/true);
      !st.ok()) {
    return st;
  }
  const uint32_t n = header[0] | (header[1] << 8) | (header[2] << 16) |
                     (static_cast<uint32_t>(header[3]) << 24);
  if (n > kMaxFrame) return absl::InternalError("frame larger than 64 MiB");
  char* body = out->Resize(n);
  absl::Status st = ReadAll(fd, body, n, deadline, /*poll_first=*/false);
  if (!st.ok()) out->Clear();
  return st;
}

absl::StatusOr<std::string> ReadFrame(int fd, absl::Time deadline) {
  ByteBuffer buffer;
  if (absl::Status st = ReadFrame(fd, deadline, &buffer); !st.ok()) return st;
  return std::string(buffer.view());
}

}  // namespace achilles::plugins_internal
