// Every rule id the built-in rules can put on a recommendation or a
// contraindication has a "### <id>" heading in docs/clinical/RULES.md, so a
// clinician can look up any rationale.rule_id. RULES_MD is the path of that
// file in the source tree (tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "services/engine/engine.h"
#include "services/engine/features.h"
#include "services/engine/rules/rules.h"
#include "tests/common/events.h"

#ifndef RULES_MD
#error "RULES_MD must name docs/clinical/RULES.md"
#endif

namespace achilles::engine {
namespace {

using ::achilles::testing::Day;
using ::achilles::testing::Finding;
using ::achilles::testing::MakeEvent;
using ::achilles::testing::PainRating;
using ::achilles::testing::RunEvent;
using ::achilles::testing::SettledRun;
using ::achilles::testing::Stiffness;

std::set<std::string> Headings() {
  std::ifstream in(RULES_MD);
  EXPECT_TRUE(in.good()) << "cannot read " << RULES_MD;
  std::set<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("### ", 0) != 0) continue;
    std::string id = line.substr(4);
    while (!id.empty() && (id.back() == ' ' || id.back() == '\r')) {
      id.pop_back();
    }
    out.insert(id);
  }
  return out;
}

// Table units that emit under ids other than their own, and the ids they
// emit. PROGRESSION only writes the verdict into the features.
const std::map<std::string, std::vector<std::string>>& EmittedAs() {
  static const auto* m = new std::map<std::string, std::vector<std::string>>{
      {"F-3/INS-X/F-6", {"F-3", "INS-X1", "INS-X2", "INS-X3", "F-6"}},
      {"E-ADJUNCT", {"E-ADJUNCT", "E-ICE"}},
      {"PROGRESSION", {}},
  };
  return *m;
}

TEST(RuleDocsTest, TheHeadingsFileIsRead) {
  const auto headings = Headings();
  EXPECT_GT(headings.size(), 20u);
  EXPECT_EQ(headings.count("RF-1"), 1u);
}

TEST(RuleDocsTest, EveryBuiltInRuleIdHasAHeading) {
  const auto headings = Headings();
  for (const RuleInfo& rule : BuiltInRuleList()) {
    const auto mapped = EmittedAs().find(rule.id);
    const std::vector<std::string> ids =
        mapped != EmittedAs().end() ? mapped->second
                                    : std::vector<std::string>{rule.id};
    for (const std::string& id : ids) {
      EXPECT_EQ(headings.count(id), 1u)
          << "no \"### " << id << "\" in RULES.md (unit " << rule.id << ")";
    }
  }
}

// Timelines that between them make every unit speak, as of day 28.
std::vector<std::vector<v1::Event>> Catalogue() {
  std::vector<std::vector<v1::Event>> out;
  {
    v1::Event flags = MakeEvent("s1", Day(1));
    auto* sf = flags.mutable_symptom_flags();
    sf->set_pop_or_snap(true);
    sf->set_cannot_single_leg_heel_raise_or_push_off(true);
    sf->set_swelling_or_bruising_significant(true);
    sf->set_pain_spreads_to_heel_or_midfoot(true);
    out.push_back({flags});
  }
  {
    v1::Event run = SettledRun("r1", Day(1), 7, 50);
    run.mutable_run_session()->mutable_response()->set_eased_with_warmup(false);
    run.mutable_run_session()->mutable_response()->set_limping(true);
    out.push_back({run});
  }
  out.push_back({PainRating("p1", Day(10), 4), PainRating("p2", Day(17), 5),
                 PainRating("p3", Day(24), 6),
                 Stiffness("m1", Day(25), v1::COMPARISON_WORSE)});
  {
    v1::Event finding = Finding("f1", Day(0), v1::LOCATION_INSERTIONAL);
    finding.mutable_finding()->set_tear_ruled_out(false);
    finding.mutable_finding()->set_nodule(true);
    finding.mutable_finding()->set_knee_to_wall_cm(5);
    std::vector<v1::Event> t = {finding};
    for (auto what : {v1::TREATMENT_CORTISONE_INJECTION,
                      v1::TREATMENT_PRP_INJECTION, v1::TREATMENT_ICE}) {
      v1::Event e = MakeEvent("t" + std::to_string(what), Day(1));
      e.mutable_treatment_request()->set_treatment(what);
      t.push_back(e);
    }
    out.push_back(t);
  }
  out.push_back({RunEvent("r1", Day(1), 4)});
  {
    v1::Event shoes = MakeEvent("w1", Day(0));
    shoes.mutable_footwear()->set_heel_drop_mm(4);
    v1::Event goal = MakeEvent("g1", Day(0));
    goal.mutable_training_goal()->set_race_planned(true);
    std::vector<v1::Event> t = {goal, shoes,
                                SettledRun("r17", Day(17), 2, 12, 5)};
    for (int d : {22, 23}) {
      v1::Event run = SettledRun("r" + std::to_string(d), Day(d), 2, 12, 10);
      run.mutable_run_session()->set_ladder_level(2);
      run.mutable_run_session()->set_intensity(v1::INTENSITY_HARD);
      run.mutable_run_session()->set_foot_strike(v1::FOOT_STRIKE_FOREFOOT);
      t.push_back(run);
    }
    out.push_back(t);
  }
  out.push_back({SettledRun("r1", Day(-30), 2, 12)});
  return out;
}

TEST(RuleDocsTest, EveryIdTheScreenEmitsHasAHeading) {
  const auto headings = Headings();
  std::set<std::string> emitted;
  for (const auto& t : Catalogue()) {
    const v1::ClinicPolicy policy = DefaultPolicy();
    v1::Features f = ComputeFeatures(t, Day(28), policy);
    const ScreenResult r = RunBuiltInRules(t, Day(28), policy, &f);
    for (const auto& rec : r.recommendations) {
      emitted.insert(rec.rationale().rule_id());
    }
    for (const auto& c : r.contraindications) emitted.insert(c.rule_id());
  }
  for (const std::string& id : emitted) {
    EXPECT_EQ(headings.count(id), 1u) << "no \"### " << id << "\" in RULES.md";
  }
  // The catalogue must reach every unit, or the check above proves little.
  for (const RuleInfo& rule : BuiltInRuleList()) {
    if (std::string(rule.id) == "DATA") continue;  // Gaps, not cards.
    const auto mapped = EmittedAs().find(rule.id);
    const std::vector<std::string> ids =
        mapped != EmittedAs().end() ? mapped->second
                                    : std::vector<std::string>{rule.id};
    for (const std::string& id : ids) {
      EXPECT_EQ(emitted.count(id), 1u) << "the catalogue never fires " << id;
    }
  }
}

}  // namespace
}  // namespace achilles::engine
