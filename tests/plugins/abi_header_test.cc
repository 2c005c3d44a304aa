// Fails when plugin_abi.h changes without an ABI version bump: every
// released (major, minor) has its header digest recorded here, and a new
// version needs a new line.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "achilles/plugin_abi.h"
#include "common/digest.h"

namespace {

TEST(AbiHeaderTest, HeaderDigestMatchesItsVersion) {
  const std::map<std::pair<int, int>, std::string> kReleased = {
      {{1, 0},
       "c221e9cb50c02587ec6ef44d06a8f44869fb304c3d2fbd4e5cd3430888bcb928"},
      // 1.1: event_kinds filters the request's timeline.
      {{1, 1},
       "fadcc8db01b3133439a6e9ca04957510747ea9cf7cce738b51cebd3d165102ac"},
  };
  auto digest = achilles::Sha256FileHex(ABI_HEADER_PATH);
  ASSERT_TRUE(digest.ok()) << digest.status();
  auto it = kReleased.find({ACH_ABI_VERSION_MAJOR, ACH_ABI_VERSION_MINOR});
  ASSERT_NE(it, kReleased.end())
      << "ABI " << ACH_ABI_VERSION_MAJOR << "." << ACH_ABI_VERSION_MINOR
      << " is not recorded; add {{major, minor}, \"" << *digest << "\"}";
  EXPECT_EQ(*digest, it->second)
      << "plugin_abi.h changed but ACH_ABI_VERSION_MINOR/MAJOR did not: bump "
         "the version (minor for additions, major for breaking changes) and "
         "record the new digest here";
}

TEST(AbiHeaderTest, InfoStructHasNoPadding) {
  // Four uint32 fields then seven pointers: the layout is the contract.
  EXPECT_EQ(sizeof(ach_type_plugin_info), 4 * 4 + 7 * sizeof(void*));
}

}  // namespace
