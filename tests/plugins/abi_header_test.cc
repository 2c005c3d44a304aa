// Fails when plugin_abi.h changes without an ABI version bump: every
// released (major, minor) has its header digest recorded here, and a new
// version needs a new line.
#include <gtest/gtest.h>

#include <cstddef>
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
      // 1.1: event_kinds filters the request's timeline; struct_size "at
      // least 1.0's"; reserved checked; int32_t results; the optional
      // lifecycle (on_init with host callbacks, on_shutdown, evaluate with
      // context). Not released before these were all in.
      {{1, 1},
       "64b2e3f2d815c6b5152ea3c0579bf86442913222409d2d33b8970bf1c4a53252"},
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
  // Four uint32 fields then ten pointers: the layout is the contract.
  EXPECT_EQ(sizeof(ach_type_plugin_info), 4 * 4 + 10 * sizeof(void*));
  EXPECT_EQ(sizeof(ach_type_host_callbacks), 2 * 4 + 2 * sizeof(void*));
}

TEST(AbiHeaderTest, TheFirst11FieldsAreThe10StructUnchanged) {
  // 1.0: four uint32 then seven pointers (tests/plugins/testdata/abi_1_0).
  EXPECT_EQ(ACH_INFO_SIZE_1_0, 4 * 4 + 7 * sizeof(void*));
  EXPECT_EQ(offsetof(ach_type_plugin_info, id), 16u);
  EXPECT_EQ(offsetof(ach_type_plugin_info, on_evaluate),
            16 + 5 * sizeof(void*));
  EXPECT_EQ(offsetof(ach_type_plugin_info, on_free), 16 + 6 * sizeof(void*));
  EXPECT_EQ(offsetof(ach_type_plugin_info, on_init), ACH_INFO_SIZE_1_0);
  // A fixed-width result, the size of the 1.0 enum it replaced.
  EXPECT_EQ(sizeof(ach_type_rc), 4u);
}

}  // namespace
