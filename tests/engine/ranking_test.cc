#include "services/engine/ranking.h"

#include <gtest/gtest.h>

namespace achilles::engine {
namespace {

v1::Recommendation Rec(const std::string& id, v1::Severity s, v1::Category c,
                       int priority = 0) {
  v1::Recommendation r;
  r.set_id(id);
  r.set_severity(s);
  r.set_category(c);
  r.set_priority(priority);
  r.set_plugin_id(id.substr(0, id.find('/')));
  r.set_provenance(r.plugin_id() == "safety" ? v1::PROVENANCE_SAFETY_SCREEN
                                             : v1::PROVENANCE_PLUGIN);
  return r;
}

TEST(RankingTest, SeverityThenCategoryThenPriorityThenId) {
  std::vector<v1::Recommendation> recs = {
      Rec("p/b", v1::SEVERITY_INFO, v1::CATEGORY_EXERCISE, 1),
      Rec("p/a", v1::SEVERITY_INFO, v1::CATEGORY_EXERCISE, 1),
      Rec("p/hi", v1::SEVERITY_INFO, v1::CATEGORY_EXERCISE, 9),
      Rec("p/run", v1::SEVERITY_INFO, v1::CATEGORY_RETURN_TO_RUN),
      Rec("safety/x", v1::SEVERITY_CRITICAL, v1::CATEGORY_SAFETY),
      Rec("p/warn", v1::SEVERITY_WARNING, v1::CATEGORY_FOOTWEAR),
  };
  Rank(&recs);
  std::vector<std::string> order;
  for (const auto& r : recs) order.push_back(r.id());
  EXPECT_EQ(order, (std::vector<std::string>{"safety/x", "p/warn", "p/run",
                                             "p/hi", "p/a", "p/b"}));
  EXPECT_EQ(recs.front().rank(), 1);
  EXPECT_EQ(recs.back().rank(), 6);
}

TEST(RankingTest, ContraindicationSuppressesOtherPluginsButNeverSafety) {
  std::vector<v1::Recommendation> recs = {
      Rec("hsr/drop", v1::SEVERITY_INFO, v1::CATEGORY_EXERCISE),
      Rec("safety/x", v1::SEVERITY_WARNING, v1::CATEGORY_SAFETY),
      Rec("rtr/run", v1::SEVERITY_INFO, v1::CATEGORY_RETURN_TO_RUN)};
  recs[0].add_tags("heel_below_step");
  recs[1].add_tags("heel_below_step");
  v1::Contraindication c;
  c.set_id("ins/INS-X1");
  c.set_blocked_tag("heel_below_step");
  c.set_reason("no heel drop below step level");
  c.set_rule_id("INS-X1");
  c.add_sources("S4");
  c.set_raised_by("insertional_flat");
  std::vector<v1::SuppressedRecommendation> suppressed;
  ApplyContraindications({c}, &recs, &suppressed);
  ASSERT_EQ(suppressed.size(), 1u);
  EXPECT_EQ(suppressed[0].recommendation().id(), "hsr/drop");
  EXPECT_NE(suppressed[0].reason().find("INS-X1"), std::string::npos);
  EXPECT_NE(suppressed[0].reason().find("S4"), std::string::npos);
  EXPECT_EQ(recs.size(), 2u);
}

// Exemption follows the provenance the engine stamps, not a name: advice
// from a plugin calling itself "safety" is suppressed like any other.
TEST(RankingTest, PluginNamedSafetyIsNotExempt) {
  std::vector<v1::Recommendation> recs = {
      Rec("safety/run", v1::SEVERITY_INFO, v1::CATEGORY_RETURN_TO_RUN)};
  recs[0].set_provenance(v1::PROVENANCE_PLUGIN);
  recs[0].add_tags("running");
  v1::Contraindication c;
  c.set_id("safety/RF-4/running");
  c.set_blocked_tag("running");
  c.set_rule_id("RF-4");
  std::vector<v1::SuppressedRecommendation> suppressed;
  ApplyContraindications({c}, &recs, &suppressed);
  ASSERT_EQ(suppressed.size(), 1u);
  EXPECT_TRUE(recs.empty());
}

}  // namespace
}  // namespace achilles::engine
