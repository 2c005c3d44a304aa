// Which events a plugin receives, from what its manifest declares.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugins/host/plugin_host.h"
#include "tests/common/events.h"

namespace achilles::plugins {
namespace {

using ::achilles::testing::Day;

TEST(EventKindFilterTest, DeclaredKindsOnly) {
  auto filter = EventKindFilter::FromNames({"note", "run_session"});
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_TRUE(filter->Takes(achilles::testing::Note("n", Day(0))));
  EXPECT_TRUE(filter->Takes(achilles::testing::RunEvent("r", Day(0), 2)));
  EXPECT_FALSE(filter->Takes(
      achilles::testing::Finding("f", Day(0), v1::LOCATION_MIDPORTION)));
  // An event without a kind is no declared kind.
  EXPECT_FALSE(filter->Takes(achilles::testing::MakeEvent("x", Day(0))));
}

TEST(EventKindFilterTest, NothingOrAStarMeansEverything) {
  for (const std::vector<std::string>& kinds :
       {std::vector<std::string>{}, std::vector<std::string>{"*"},
        std::vector<std::string>{"note", "*"}}) {
    auto filter = EventKindFilter::FromNames(kinds);
    ASSERT_TRUE(filter.ok());
    EXPECT_EQ(filter->bits(), EventKindFilter::All().bits());
    EXPECT_TRUE(filter->Takes(achilles::testing::MakeEvent("x", Day(0))));
  }
}

TEST(EventKindFilterTest, AnUnknownKindIsNamed) {
  auto filter = EventKindFilter::FromNames({"note", "run_sessions"});
  EXPECT_TRUE(absl::IsInvalidArgument(filter.status()));
  EXPECT_NE(filter.status().message().find("'run_sessions'"), std::string::npos)
      << filter.status();
  EXPECT_NE(filter.status().message().find("run_session,"), std::string::npos)
      << filter.status();
}

TEST(EventKindFilterTest, EveryKindHasABitOfItsOwn) {
  // Kinds numbered 63 or more would share a bit (and so be sent together):
  // correct, but a new kind should get a number below it.
  const auto* oneof = v1::Event::descriptor()->FindOneofByName("kind");
  ASSERT_NE(oneof, nullptr);
  uint64_t seen = 0;
  for (int i = 0; i < oneof->field_count(); ++i) {
    EXPECT_LT(oneof->field(i)->number(), 63) << oneof->field(i)->name();
    auto filter = EventKindFilter::FromNames({oneof->field(i)->name()});
    ASSERT_TRUE(filter.ok());
    EXPECT_EQ(filter->bits() & seen, 0u) << oneof->field(i)->name();
    seen |= filter->bits();
  }
}

TEST(EventKindFilterTest, PluginsBuiltAgainstAbi10GetEverything) {
  PluginManifest manifest;
  manifest.event_kinds = {"note"};
  manifest.abi_version = "1.0";
  EXPECT_EQ(EventKindFilter::For(manifest).bits(),
            EventKindFilter::All().bits());
  manifest.abi_version = "1.1";
  EXPECT_FALSE(EventKindFilter::For(manifest).Takes(
      achilles::testing::RunEvent("r", Day(0), 2)));
}

}  // namespace
}  // namespace achilles::plugins
