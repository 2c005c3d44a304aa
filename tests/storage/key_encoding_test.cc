#include "storage/internal/key_encoding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace achilles::storage_internal {
namespace {

TEST(KeyEncodingTest, TimeOrderIsByteOrderIncludingNegative) {
  const int64_t times[] = {INT64_MIN / 2, -1000000,     -1, 0, 1,
                           1000000,       INT64_MAX / 2};
  for (size_t i = 1; i < std::size(times); ++i) {
    std::string a, b;
    AppendTime(&a, times[i - 1]);
    AppendTime(&b, times[i]);
    EXPECT_LT(a, b) << times[i - 1] << " vs " << times[i];
    EXPECT_EQ(ReadTime(b), times[i]);
  }
}

TEST(KeyEncodingTest, EventKeysSortByTimeThenId) {
  EXPECT_LT(EventKey("c", "p", 100, "zzz"), EventKey("c", "p", 200, "aaa"));
  EXPECT_LT(EventKey("c", "p", 100, "a"), EventKey("c", "p", 100, "b"));
}

TEST(KeyEncodingTest, PrefixesDoNotCaptureLongerIds) {
  // "p1" must not be a prefix of "p10"'s keys, nor clinic "a" of "ab".
  const std::string p1 = PatientPrefix("c", "p1");
  EXPECT_NE(EventKey("c", "p10", 0, "e").rfind(p1, 0), 0u);
  EXPECT_NE(PatientKey("ab", "p").rfind(ClinicPrefix("a"), 0), 0u);
  EXPECT_EQ(PatientKey("a", "p").rfind(ClinicPrefix("a"), 0), 0u);
}

TEST(KeyEncodingTest, PrefixEndBoundsEveryKeyWithPrefix) {
  const std::string prefix = PatientPrefix("c", "p");
  const std::string end = PrefixEnd(prefix);
  EXPECT_LT(EventKey("c", "p", INT64_MAX / 2, "\x7f\x7f"), end);
  EXPECT_GE(PatientPrefix("c", "q"), end);
  EXPECT_EQ(PrefixEnd(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff", 1)), "");
}

}  // namespace
}  // namespace achilles::storage_internal
