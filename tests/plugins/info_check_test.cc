// The manifest checks shared by the in-process loader and the worker, on
// hand-made info structs.
#include "plugins/host/internal/info_check.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace achilles::plugins_internal {
namespace {

ach_type_rc NoEvaluate(const uint8_t*, size_t, uint8_t**, size_t*, char*,
                       size_t) {
  return ACH_RC_OK;
}
void NoFree(uint8_t*) {}

absl::Status Check(const char* id, const char* event_kinds,
                   uint32_t abi_minor = ACH_ABI_VERSION_MINOR) {
  const ach_type_plugin_info info = {sizeof(ach_type_plugin_info),
                                     ACH_ABI_VERSION_MAJOR,
                                     abi_minor,
                                     0,
                                     id,
                                     "1.0.0",
                                     "Info check test",
                                     "test",
                                     event_kinds,
                                     &NoEvaluate,
                                     &NoFree};
  plugins::PluginManifest m;
  return CheckInfo(&info, &m);
}

absl::Status CheckId(const char* id) { return Check(id, "note"); }

TEST(InfoCheckTest, RefusesIdsReservedForTheEngine) {
  for (const char* id : {"safety", "engine", "data", "achilles",
                         "achilles_core", "achilles-x", "achilles.v2"}) {
    const absl::Status st = CheckId(id);
    EXPECT_TRUE(absl::IsFailedPrecondition(st)) << id << ": " << st;
    EXPECT_NE(st.message().find(absl::StrCat("'", id, "'")), std::string::npos)
        << st;
    EXPECT_NE(st.message().find("reserved for the engine"), std::string::npos)
        << st;
  }
}

TEST(InfoCheckTest, AcceptsIdsThatOnlyResembleReservedOnes) {
  for (const char* id : {"safety_net", "my_safety", "engines", "data_quality",
                         "my_achilles", "achille", "good"}) {
    EXPECT_TRUE(CheckId(id).ok()) << id << ": " << CheckId(id);
  }
}

TEST(InfoCheckTest, RefusesEventKindsThatDoNotExist) {
  const absl::Status st = Check("good", "note, run_sessions");
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_NE(st.message().find("manifest: event kind 'run_sessions'"),
            std::string::npos)
      << st;
  EXPECT_TRUE(Check("good", "note, run_session").ok());
  EXPECT_TRUE(Check("good", "*").ok());
  EXPECT_TRUE(Check("good", "").ok());
  EXPECT_TRUE(Check("good", nullptr).ok());
}

TEST(InfoCheckTest, Abi10EventKindsAreNotChecked) {
  // Never filtered by, so never refused for.
  EXPECT_TRUE(Check("good", "run_sessions", /*abi_minor=*/0).ok());
}

}  // namespace
}  // namespace achilles::plugins_internal
