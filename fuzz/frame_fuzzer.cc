// The worker frame protocol, from the host's side: the bytes an isolated
// plugin worker (which runs plugin code, so may be broken or hostile) sends
// over its socket. ReadFrame (plugins/host/internal/frame_io.h) reads them
// from a real socketpair; the first frame is decoded as WorkerHello as
// WorkerProcess::Start does, each later one as WorkerReply, its response as
// PluginResponse, checked by ValidatePluginResponse as LoadedPlugin::Finish
// does.
//
// Invariants: ReadFrame never returns more than kMaxFrame bytes, and
// WriteFrame then ReadFrame gives back the bytes written.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "achilles/internal/worker.pb.h"
#include "achilles/v1/plugin.pb.h"
#include "fuzz/fuzz_common.h"
#include "plugins/host/internal/frame_io.h"
#include "plugins/host/plugin_host.h"

namespace achilles::fuzz {
namespace {

namespace pi = ::achilles::plugins_internal;

// Inputs longer than this are skipped, so a whole input always fits in the
// socket buffer and the single-threaded write below never blocks.
constexpr size_t kMaxInput = 64 << 10;

// A connected pair holding `bytes` from the "worker" end, which is then
// shut for writing so the reader meets end of stream, as when a worker dies.
bool Feed(absl::string_view bytes, int* read_fd, int* write_fd) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return false;
  }
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t w = send(fds[1], bytes.data() + off, bytes.size() - off,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w <= 0) {
      close(fds[0]);
      close(fds[1]);
      return false;
    }
    off += static_cast<size_t>(w);
  }
  shutdown(fds[1], SHUT_WR);
  *read_fd = fds[0];
  *write_fd = fds[1];
  return true;
}

void HostSide(int fd) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  auto hello_frame = pi::ReadFrame(fd, deadline);
  if (!hello_frame.ok()) return;
  ACH_FUZZ_CHECK(hello_frame->size() <= pi::kMaxFrame, "oversized frame");
  achilles::internal::WorkerHello hello;
  if (!hello.ParseFromString(*hello_frame) || !hello.ok()) return;
  for (;;) {
    auto frame = pi::ReadFrame(fd, deadline);
    if (!frame.ok()) return;
    ACH_FUZZ_CHECK(frame->size() <= pi::kMaxFrame, "oversized frame");
    achilles::internal::WorkerReply reply;
    if (!reply.ParseFromString(*frame)) return;  // The host kills the worker.
    if (reply.rc() != 0) continue;
    v1::PluginResponse response;
    if (!response.ParseFromString(reply.response())) continue;
    plugins::ValidatePluginResponse(response).IgnoreError();
  }
}

void RoundTrip(absl::string_view bytes) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return;
  ACH_FUZZ_CHECK(pi::WriteFrame(fds[1], bytes).ok(), "WriteFrame failed");
  auto back = pi::ReadFrame(fds[0], absl::Now() + absl::Seconds(5));
  ACH_FUZZ_CHECK(back.ok() && *back == bytes, "frame round trip");
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace achilles::fuzz

ACH_FUZZ_INITIALIZE()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fz = ::achilles::fuzz;
  if (size > fz::kMaxInput) return 0;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  int read_fd = -1;
  int write_fd = -1;
  if (fz::Feed(bytes, &read_fd, &write_fd)) {
    fz::HostSide(read_fd);
    close(read_fd);
    close(write_fd);
  }
  fz::RoundTrip(bytes);
  return 0;
}
