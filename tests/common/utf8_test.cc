// UTF-8 checks and repair (common/utf8.h), byte by byte.
#include "common/utf8.h"

#include <gtest/gtest.h>

namespace achilles {
namespace {

TEST(Utf8Test, ValidTextIsKept) {
  const std::string text =
      "Achillessehne \xc3\xa4 \xe2\x82\xac \xf0\x9f\x8f\x83";
  EXPECT_TRUE(IsValidUtf8(text));
  EXPECT_EQ(ToValidUtf8(text), text);
  EXPECT_EQ(ToValidUtf8(""), "");
}

TEST(Utf8Test, EachBadByteBecomesOneReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(ToValidUtf8("caf\xe9"), "caf" + fffd);  // Latin-1.
  EXPECT_EQ(ToValidUtf8("a\xc3"), "a" + fffd);      // Truncated.
  EXPECT_EQ(ToValidUtf8("\xc0\xaf"), fffd + fffd);  // Overlong.
  EXPECT_EQ(ToValidUtf8("\xed\xa0\x80x"),
            fffd + fffd + fffd + "x");  // Surrogate.
  EXPECT_EQ(ToValidUtf8("\xf4\x90\x80\x80"), fffd + fffd + fffd + fffd);
  for (const char* bad :
       {"caf\xe9", "a\xc3", "\xc0\xaf", "\xed\xa0\x80x", "\xff\xfe"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8(bad))) << bad;
  }
}

}  // namespace
}  // namespace achilles
