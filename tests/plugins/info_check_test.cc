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

ach_type_rc NoInit(const ach_type_host_callbacks*, void**, char*, size_t) {
  return ACH_RC_OK;
}
void NoShutdown(void*) {}

ach_type_plugin_info Full() {
  ach_type_plugin_info info = {};
  info.struct_size = sizeof(ach_type_plugin_info);
  info.abi_major = ACH_ABI_VERSION_MAJOR;
  info.abi_minor = ACH_ABI_VERSION_MINOR;
  info.id = "good";
  info.version = "1.0.0";
  info.display_name = "Info check test";
  info.protocols = "test";
  info.event_kinds = "note";
  info.on_evaluate = &NoEvaluate;
  info.on_free = &NoFree;
  info.on_init = &NoInit;
  info.on_shutdown = &NoShutdown;
  return info;
}

// The manifest's text reaches ListPlugins, a proto3 string a client could
// not decode if it were not UTF-8.
TEST(InfoCheckTest, ADisplayNameThatIsNotUtf8IsRefused) {
  ach_type_plugin_info info = Full();
  plugins::PluginManifest m;
  info.display_name = "Caf\xe9 protocol";
  const absl::Status st = CheckInfo(&info, &m);
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_NE(st.message().find("display_name must be 1-128 bytes of UTF-8"),
            std::string::npos)
      << st;
  info.display_name = "Caf\xc3\xa9 protocol";
  EXPECT_TRUE(CheckInfo(&info, &m).ok());
}

TEST(InfoCheckTest, AStructSmallerThan10IsRefused) {
  ach_type_plugin_info info = Full();
  info.struct_size = ACH_INFO_SIZE_1_0 - 8;
  plugins::PluginManifest m;
  const absl::Status st = CheckInfo(&info, &m);
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_NE(st.message().find("smaller than ABI 1.0's"), std::string::npos);
}

TEST(InfoCheckTest, NonZeroReservedIsRefused) {
  ach_type_plugin_info info = Full();
  info.reserved = 1;
  plugins::PluginManifest m;
  const absl::Status st = CheckInfo(&info, &m);
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_NE(st.message().find("reserved must be zero"), std::string::npos);
}

TEST(InfoCheckTest, FieldsPastTheStructSizeAreAbsent) {
  // A 1.1 plugin that says its struct ends where 1.0's did: whatever lies
  // beyond is not read, so it has no lifecycle.
  ach_type_plugin_info info = Full();
  info.struct_size = ACH_INFO_SIZE_1_0;
  ach_type_plugin_info entry;
  plugins::PluginManifest m;
  ASSERT_TRUE(CheckInfo(&info, &m, &entry).ok());
  EXPECT_EQ(entry.on_init, nullptr);
  EXPECT_EQ(entry.on_shutdown, nullptr);
  EXPECT_EQ(entry.on_evaluate, &NoEvaluate);
  // The same for fields newer than the plugin's minor, whatever its size.
  info = Full();
  info.abi_minor = 0;
  ASSERT_TRUE(CheckInfo(&info, &m, &entry).ok());
  EXPECT_EQ(entry.on_init, nullptr);
  // The full 1.1 struct keeps them.
  info = Full();
  ASSERT_TRUE(CheckInfo(&info, &m, &entry).ok());
  EXPECT_EQ(entry.on_init, &NoInit);
  EXPECT_EQ(entry.on_shutdown, &NoShutdown);
}

TEST(InfoCheckTest, AFieldCutByTheStructSizeIsAbsentNotHalfRead) {
  // A size ending halfway through on_shutdown: the half pointer must not
  // become a callable (non-null) one, so the pair is refused as unpaired.
  ach_type_plugin_info info = Full();
  info.struct_size = ACH_INFO_SIZE_1_0 + sizeof(void*) + sizeof(void*) / 2;
  ach_type_plugin_info entry;
  plugins::PluginManifest m;
  const absl::Status st = CheckInfo(&info, &m, &entry);
  EXPECT_NE(st.message().find("on_init and on_shutdown come as a pair"),
            std::string::npos)
      << st;
}

TEST(InfoCheckTest, ALargerStructFromALaterMinorIsRead) {
  // A struct longer than this host knows (as a plugin that declared the
  // same minor but padded it would send): only the known part is read.
  struct Longer {
    ach_type_plugin_info info;
    void* later[4];
  } longer = {Full(), {nullptr, nullptr, nullptr, nullptr}};
  longer.info.struct_size = sizeof(Longer);
  ach_type_plugin_info entry;
  plugins::PluginManifest m;
  ASSERT_TRUE(CheckInfo(&longer.info, &m, &entry).ok());
  EXPECT_EQ(entry.on_init, &NoInit);
}

TEST(InfoCheckTest, EvaluateWithContextMayStandAloneButInitNeedsShutdown) {
  ach_type_plugin_info info = Full();
  info.on_evaluate = nullptr;
  plugins::PluginManifest m;
  EXPECT_FALSE(CheckInfo(&info, &m).ok());  // No evaluate at all.
  info.on_evaluate_with_context = [](void*, const uint8_t*, size_t, uint8_t**,
                                     size_t*, char*, size_t) -> ach_type_rc {
    return ACH_RC_OK;
  };
  EXPECT_TRUE(CheckInfo(&info, &m).ok());
  info.on_shutdown = nullptr;
  const absl::Status st = CheckInfo(&info, &m);
  EXPECT_NE(st.message().find("on_init and on_shutdown come as a pair"),
            std::string::npos)
      << st;
}

TEST(InfoCheckTest, Abi10EventKindsAreNotChecked) {
  // Never filtered by, so never refused for.
  EXPECT_TRUE(Check("good", "run_sessions", /*abi_minor=*/0).ok());
}

}  // namespace
}  // namespace achilles::plugins_internal
