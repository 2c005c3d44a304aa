// Frames between the host and its workers, over a real socketpair.
#include "plugins/host/internal/frame_io.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/time/clock.h"

namespace achilles::plugins_internal {
namespace {

class FrameIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0);
  }
  void TearDown() override {
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  absl::Time Soon() { return absl::Now() + absl::Seconds(5); }
  int fds_[2] = {-1, -1};
};

TEST_F(FrameIoTest, FramesOfEverySizeArriveWhole) {
  ByteBuffer buffer;
  // Larger than the socket buffer too, so the writer waits for the reader.
  for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, size_t{3} << 20}) {
    std::string sent(size, '\0');
    for (size_t i = 0; i < size; ++i) sent[i] = static_cast<char>(i * 7);
    std::thread writer([&] { EXPECT_TRUE(WriteFrame(fds_[0], sent).ok()); });
    ASSERT_TRUE(ReadFrame(fds_[1], Soon(), &buffer).ok()) << size;
    writer.join();
    EXPECT_EQ(buffer.view(), sent) << size;
  }
}

TEST_F(FrameIoTest, ABufferIsReusedForSmallerFrames) {
  ByteBuffer buffer;
  ASSERT_TRUE(WriteFrame(fds_[0], std::string(1000, 'a')).ok());
  ASSERT_TRUE(ReadFrame(fds_[1], Soon(), &buffer).ok());
  const char* storage = buffer.data();
  ASSERT_TRUE(WriteFrame(fds_[0], "short").ok());
  ASSERT_TRUE(ReadFrame(fds_[1], Soon(), &buffer).ok());
  EXPECT_EQ(buffer.view(), "short");
  EXPECT_EQ(buffer.data(), storage);
}

TEST_F(FrameIoTest, NothingBeforeTheDeadlineIsDeadlineExceeded) {
  ByteBuffer buffer;
  const absl::Time start = absl::Now();
  absl::Status st =
      ReadFrame(fds_[1], absl::Now() + absl::Milliseconds(100), &buffer);
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(FrameIoTest, AFrameThatArrivedInTimeIsReadAfterTheDeadline) {
  // A batch reads its replies one after another: one that came in time
  // is not lost to a deadline that passed while another was read.
  ASSERT_TRUE(WriteFrame(fds_[0], "on time").ok());
  ByteBuffer buffer;
  absl::Status st = ReadFrame(fds_[1], absl::Now() - absl::Seconds(1), &buffer);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(buffer.view(), "on time");
}

TEST_F(FrameIoTest, AClosedPeerIsUnavailable) {
  close(fds_[0]);
  fds_[0] = -1;
  ByteBuffer buffer;
  EXPECT_TRUE(absl::IsUnavailable(ReadFrame(fds_[1], Soon(), &buffer)));
  EXPECT_TRUE(absl::IsUnavailable(WriteFrame(fds_[1], "x")));
}

TEST_F(FrameIoTest, AnOversizedLengthIsRefusedUnread) {
  const unsigned char huge[4] = {0xff, 0xff, 0xff, 0x7f};
  ASSERT_EQ(write(fds_[0], huge, 4), 4);
  ByteBuffer buffer;
  absl::Status st = ReadFrame(fds_[1], Soon(), &buffer);
  EXPECT_TRUE(absl::IsInternal(st)) << st;
  EXPECT_TRUE(
      absl::IsInternal(WriteFrame(fds_[0], std::string(kMaxFrame + 1, 'x'))));
}

}  // namespace
}  // namespace achilles::plugins_internal
