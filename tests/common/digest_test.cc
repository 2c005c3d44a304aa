// SHA-256 one-shot and streaming agree with the FIPS 180-2 test vector and
// with each other, and a copied stream finishes independently.
#include "common/digest.h"

#include <gtest/gtest.h>

namespace achilles {
namespace {

constexpr char kAbc[] =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(DigestTest, OneShotMatchesTestVector) {
  EXPECT_EQ(Sha256Hex("abc"), kAbc);
}

TEST(DigestTest, StreamInPiecesMatchesOneShot) {
  Sha256Stream s;
  s.Update("a");
  s.Update("");
  s.Update("bc");
  EXPECT_EQ(s.HexDigest(), kAbc);
  EXPECT_EQ(s.HexDigest(), kAbc);  // Reading does not end the stream.
}

TEST(DigestTest, CopyForksTheState) {
  Sha256Stream prefix;
  prefix.Update("ab");
  Sha256Stream fork(prefix);
  fork.Update("c");
  prefix.Update("d");
  EXPECT_EQ(fork.HexDigest(), kAbc);
  EXPECT_EQ(prefix.HexDigest(), Sha256Hex("abd"));
}

TEST(DigestTest, FramingSeparatesPieces) {
  Sha256Stream a, b;
  a.UpdateFramed("ab");
  a.UpdateFramed("c");
  b.UpdateFramed("a");
  b.UpdateFramed("bc");
  EXPECT_NE(a.HexDigest(), b.HexDigest());
}

// RFC 4231, test case 2.
TEST(DigestTest, HmacMatchesRfc4231) {
  constexpr char kMac[] =
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"), kMac);
  const HmacSha256Key key("Jefe");
  const HmacSha256Key copy = key;
  EXPECT_EQ(key.Hex("what do ya want for nothing?"), kMac);
  EXPECT_EQ(copy.Hex("what do ya want for nothing?"), kMac);
  EXPECT_NE(key.Hex("what do ya want for something?"), kMac);
}

}  // namespace
}  // namespace achilles
