// FHIR mapping (import, export, round trip), cards and the report page,
// without a server: the pure functions of services/ehr.
#include <gtest/gtest.h>

#include "common/time_util.h"
#include "services/ehr/ehr.h"
#include "services/ehr/internal/cards.h"
#include "services/ehr/internal/order_sign.h"
#include "tests/ehr/fhir_bundles.h"

namespace achilles::ehr {
namespace {

using testing::Bundle;
using testing::json;

TEST(FhirImportTest, MapsEveryResourceOfTheProfile) {
  auto parsed = ParseBundle(testing::OrdinaryBundle("p-1").dump(), "");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->errors.empty()) << parsed->errors[0].reason;
  EXPECT_EQ(parsed->patient.patient_id(), "p-1");
  EXPECT_EQ(parsed->patient.birth_year(), 1985);
  ASSERT_EQ(parsed->events.size(), 22u);
  const v1::Event& dx = parsed->events[0];
  EXPECT_EQ(dx.event_id(), "fhir:C:dx1:1");
  EXPECT_EQ(dx.finding().location(), v1::LOCATION_MIDPORTION);
  EXPECT_EQ(dx.finding().stage(), v1::STAGE_DISREPAIR);
  EXPECT_EQ(parsed->events[1].questionnaire().total_score(), 62);
  const v1::Event& run = parsed->events[2];
  EXPECT_EQ(run.event_id(), "fhir:O:run18:1");
  EXPECT_EQ(run.run_session().distance_km(), 4.0);
  EXPECT_EQ(run.run_session().duration_minutes(), 30);
  EXPECT_EQ(run.run_session().intensity(), v1::INTENSITY_EASY);
  EXPECT_EQ(run.run_session().response().settle_time_hours(), 6);
  EXPECT_EQ(parsed->events[3].exercise_session().exercise(),
            v1::EXERCISE_SINGLE_LEG_HEEL_RAISE_FLAT);
  EXPECT_EQ(parsed->events[4].morning_stiffness().severity(), 2);
  EXPECT_EQ(parsed->events[4].morning_stiffness().minutes(), 10);
  EXPECT_EQ(parsed->events[5].pain_report().activity(), v1::ACTIVITY_WALKING);
  EXPECT_EQ(parsed->events[5].pain_report().response().pain_during(), 1);
}

TEST(FhirImportTest, ReportsEachBadResourceWithItsFullUrl) {
  json pain = testing::Pain("bad-pain", "p-1", 1, "running", 11);
  json no_time = testing::Exercise("no-time", "p-1", 1, 2);
  no_time.erase("effectiveDateTime");
  json other = testing::Pain("other", "p-2", 1, "running", 3);
  json med = {{"resourceType", "MedicationRequest"}, {"id", "m1"}};
  auto parsed = ParseBundle(
      Bundle("p-1", json::array({pain, no_time, other, med})).dump(), "");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->errors.size(), 3u);
  EXPECT_EQ(parsed->errors[0].full_url, "urn:test:Observation/bad-pain");
  EXPECT_NE(parsed->errors[0].reason.find("value"), std::string::npos);
  EXPECT_NE(parsed->errors[0].reason.find("0-10"), std::string::npos);
  EXPECT_EQ(parsed->errors[1].full_url, "urn:test:Observation/no-time");
  EXPECT_NE(parsed->errors[1].reason.find("effectiveDateTime"),
            std::string::npos);
  EXPECT_NE(parsed->errors[2].reason.find("another patient"),
            std::string::npos);
  ASSERT_EQ(parsed->skipped.size(), 1u);
  EXPECT_NE(parsed->skipped[0].reason.find("MedicationRequest"),
            std::string::npos);
}

// One resource version twice is one event; the same id and version with
// other content is an error naming the second entry (both cannot be
// stored, and keeping either silently would lose data).
TEST(FhirImportTest, ARepeatedVersionMustHaveTheSameContent) {
  json a = testing::Pain("twice", "p-1", 1, "running", 3);
  json b = a;
  b["valueInteger"] = 4;
  auto same = ParseBundle(Bundle("p-1", json::array({a, a})).dump(), "");
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->errors.empty());
  EXPECT_EQ(same->events.size(), 1u);
  auto differs = ParseBundle(Bundle("p-1", json::array({a, b})).dump(), "");
  ASSERT_TRUE(differs.ok());
  ASSERT_EQ(differs->errors.size(), 1u);
  EXPECT_NE(differs->errors[0].reason.find("other content"), std::string::npos);
}

TEST(FhirImportTest, NotJsonIsInvalidArgument) {
  EXPECT_TRUE(absl::IsInvalidArgument(ParseBundle("{oops", "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseBundle("[1]", "").status()));
}

TEST(FhirImportTest, NestingBeyondTheBoundIsRefusedNotRecursedInto) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(ParseBundle(deep, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  // A bundle nested within the bound still parses as JSON.
  const std::string ok = std::string(60, '[') + std::string(60, ']');
  EXPECT_FALSE(ehr_internal::ParseJson(ok).is_discarded());
  EXPECT_TRUE(
      ehr_internal::ParseJson(std::string(70, '[') + std::string(70, ']'))
          .is_discarded());
}

TEST(FhirImportTest, PinnedPatientRefusesOthers) {
  auto parsed = ParseBundle(testing::OrdinaryBundle("p-1").dump(), "p-2");
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->errors.empty());
}

TEST(FhirExportTest, ExportThenImportGivesTheSameEvents) {
  auto first = ParseBundle(testing::RedFlagBundle("p-1").dump(), "");
  ASSERT_TRUE(first.ok());
  LeftOut left_out;
  left_out.total = -1;
  const std::string exported =
      ExportBundle(first->patient, first->events, &left_out);
  EXPECT_EQ(left_out.total, 0);
  EXPECT_EQ(left_out.ByKindText(), "");
  EXPECT_EQ(exported, ExportBundle(first->patient, first->events, nullptr));
  auto again = ParseBundle(exported, "p-1");
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->errors.empty()) << again->errors[0].reason;
  ASSERT_EQ(again->events.size(), first->events.size());
  for (size_t i = 0; i < first->events.size(); ++i) {
    EXPECT_EQ(again->events[i].SerializeAsString(),
              first->events[i].SerializeAsString())
        << first->events[i].event_id();
  }
}

// Kinds the mapping cannot carry are counted per kind, never dropped
// silently; the bundle holds everything else.
TEST(FhirExportTest, EventsWithoutAMappingAreCountedByKind) {
  auto parsed = ParseBundle(testing::OrdinaryBundle("p-1").dump(), "");
  ASSERT_TRUE(parsed.ok());
  std::vector<v1::Event> events = parsed->events;
  for (int i = 0; i < 2; ++i) {
    v1::Event note = events[0];
    note.set_event_id("note-" + std::to_string(i));
    note.mutable_note()->set_text("seen in clinic");
    events.push_back(note);
  }
  v1::Event no_finding = events[0];
  no_finding.set_event_id("bare-finding");
  no_finding.mutable_finding()->Clear();
  events.push_back(no_finding);
  LeftOut left_out;
  const std::string out = ExportBundle(parsed->patient, events, &left_out);
  EXPECT_EQ(left_out.total, 3);
  EXPECT_EQ(left_out.ByKindText(), "finding=1,note=2");
  EXPECT_EQ(json::parse(out)["entry"].size(), parsed->events.size() + 1);
}

v1::Recommendation Rec(const std::string& id, v1::Severity sev,
                       v1::Provenance prov) {
  v1::Recommendation r;
  r.set_id(id);
  r.set_severity(sev);
  r.set_provenance(prov);
  r.set_summary("Advice " + id);
  r.mutable_rationale()->set_rule_id("E-X");
  return r;
}

TEST(CardsTest, SafetyCardsAreNeverDropped) {
  v1::Evaluation ev;
  for (int i = 0; i < 20; ++i) {
    *ev.add_recommendations() = Rec("plugin/" + std::to_string(i),
                                    v1::SEVERITY_INFO, v1::PROVENANCE_PLUGIN);
  }
  *ev.add_recommendations() =
      Rec("safety/RF-5", v1::SEVERITY_WARNING, v1::PROVENANCE_SAFETY_SCREEN);
  ehr_internal::CardLinks links;
  links.uuid_for = [](const std::string& id, const std::string&) {
    return "u-" + id;
  };
  auto cards = ehr_internal::CardsFor(ev, links);
  ASSERT_EQ(cards.size(), static_cast<size_t>(ehr_internal::kMaxCards + 1));
  EXPECT_EQ(cards.back()["uuid"], "u-safety/RF-5");
  EXPECT_EQ(cards.back()["indicator"], "warning");
  EXPECT_EQ(cards.back()["source"]["label"], "achilles-cds safety screen");
}

TEST(CardsTest, APrescriptionBecomesADraftServiceRequestSuggestion) {
  v1::Evaluation ev;
  ev.set_patient_id("p-1");
  v1::Recommendation r =
      Rec("midportion_hsr/HSR-1", v1::SEVERITY_INFO, v1::PROVENANCE_PLUGIN);
  r.set_plugin_id("midportion_hsr");
  r.set_plugin_version("1.2.0");
  r.mutable_prescription()->set_exercise("seated soleus raise");
  r.mutable_prescription()->set_sets(3);
  r.mutable_prescription()->set_reps(15);
  *ev.add_recommendations() = r;
  *ev.add_recommendations() =
      Rec("engine/E-EXPECT", v1::SEVERITY_INFO, v1::PROVENANCE_ENGINE_RULE);
  ehr_internal::CardLinks links;
  links.rules_url = "https://cds.test/reference/rules";
  links.uuid_for = [](const std::string&, const std::string&) {
    return std::string("0b2c4e6a-1111-8222-9333-444455556666");
  };
  auto cards = ehr_internal::CardsFor(ev, links);
  ASSERT_EQ(cards.size(), 2u);
  const auto& s = cards[0]["suggestions"][0];
  EXPECT_EQ(s["label"], "Prescribe: seated soleus raise, 3x15");
  EXPECT_NE(s["uuid"], cards[0]["uuid"]);
  const auto& action = s["actions"][0];
  EXPECT_EQ(action["type"], "create");
  EXPECT_EQ(action["resource"]["resourceType"], "ServiceRequest");
  EXPECT_EQ(action["resource"]["subject"]["reference"], "Patient/p-1");
  EXPECT_EQ(cards[0]["source"]["label"],
            "achilles-cds plugin midportion_hsr 1.2.0");
  EXPECT_EQ(cards[0]["source"]["url"], "https://cds.test/reference/rules#E-X");
  EXPECT_FALSE(cards[1].contains("suggestions"));
}

TEST(CardsTest, SummaryIsShorterThan140Characters) {
  const std::string s = ehr_internal::ShortSummary(std::string(300, 'a'));
  EXPECT_LT(s.size(), 140u);
  EXPECT_EQ(s.substr(s.size() - 3), "...");
  EXPECT_EQ(ehr_internal::ShortSummary("short"), "short");
}

TEST(ReportTest, ChartLinksObservedValuesAndIsDeterministic) {
  auto parsed = ParseBundle(testing::RedFlagBundle("p-1").dump(), "");
  ASSERT_TRUE(parsed.ok());
  v1::Evaluation ev;
  *ev.mutable_as_of() = FromMicros(NowMicros());
  v1::Recommendation r =
      Rec("safety/RF-5", v1::SEVERITY_WARNING, v1::PROVENANCE_SAFETY_SCREEN);
  r.mutable_rationale()->set_rule_id("RF-5");
  auto* o = r.mutable_rationale()->add_observed();
  o->set_label("settle time <of latest run>");
  o->set_value("60 h");
  o->add_event_ids("fhir:O:run-late:1");
  *ev.add_recommendations() = r;
  const std::string html = RenderReport(parsed->patient, parsed->events, ev);
  EXPECT_EQ(html, RenderReport(parsed->patient, parsed->events, ev));
  EXPECT_NE(html.find("<svg id=\"chart\""), std::string::npos);
  EXPECT_NE(html.find("id=\"ev-fhir:O:run-late:1\""), std::string::npos);
  EXPECT_NE(html.find("href=\"#ev-fhir:O:run-late:1\""), std::string::npos);
  EXPECT_NE(html.find("class=\"flag\""), std::string::npos);
  EXPECT_NE(html.find("&lt;of latest run&gt;"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos) << "no external resource";
}

// Draft orders are read by our order code; a block on one of an order's
// tags gives that order one card, explained by the evaluation's advice for
// the rule; other orders get none.
TEST(OrderSignTest, OnlyOrdersWhoseTagsAreBlockedGetACard) {
  json drafts = {
      {"resourceType", "Bundle"},
      {"entry",
       json::array({{{"resource",
                      {{"resourceType", "ServiceRequest"},
                       {"id", "r1"},
                       {"code",
                        {{"coding",
                          json::array({{{"system", ehr_internal::kOrderSystem},
                                        {"code", "running-hills"}}})},
                         {"text", "Hill repeats"}}}}}},
                    {{"resource",
                      {{"resourceType", "ServiceRequest"},
                       {"id", "r2"},
                       {"code", {{"text", "Physio review"}}}}}}})}};
  auto orders = ehr_internal::ReadDraftOrders(drafts);
  ASSERT_TRUE(orders.ok()) << orders.status();
  ASSERT_EQ(orders->size(), 2u);
  EXPECT_EQ((*orders)[0].reference, "ServiceRequest/r1");
  EXPECT_EQ((*orders)[0].tags, (std::vector<std::string>{"running", "hills"}));
  EXPECT_TRUE((*orders)[1].tags.empty());
  EXPECT_TRUE(ehr_internal::TagsOfOrderCode("no-such-code").empty());

  v1::Evaluation ev;
  *ev.add_recommendations() =
      Rec("safety/RF-2", v1::SEVERITY_CRITICAL, v1::PROVENANCE_SAFETY_SCREEN);
  ev.mutable_recommendations(0)->mutable_rationale()->set_rule_id("RF-2");
  ehr_internal::CardLinks links;
  links.uuid_for = [](const std::string& id, const std::string& about) {
    return "uuid-" + id + about;
  };
  auto cards = ehr_internal::ConflictCards(
      *orders, {{"RF-2", "hills", "tendon rupture suspected"}}, ev, links);
  ASSERT_EQ(cards.size(), 1u);
  // The order is part of the card's identity: two orders one rule blocks
  // get two cards with two uuids.
  EXPECT_EQ(cards[0]["uuid"], "uuid-safety/RF-2ServiceRequest/r1");
  EXPECT_EQ(cards[0]["indicator"], "critical");
  EXPECT_NE(cards[0]["summary"].get<std::string>().find("Hill repeats"),
            std::string::npos);
  EXPECT_TRUE(ehr_internal::ConflictCards(*orders, {{"RF-9", "exercise", "x"}},
                                          ev, links)
                  .empty());
  EXPECT_FALSE(
      ehr_internal::ReadDraftOrders(json{{"resourceType", "Patient"}}).ok());
  // Too many orders are refused, not cut short (an order past a cap would
  // go unchecked).
  json many = drafts;
  for (int i = 0; i < 100; ++i) many["entry"].push_back(drafts["entry"][1]);
  auto refused = ehr_internal::ReadDraftOrders(many);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("context.draftOrders.entry"),
            std::string::npos)
      << refused.status();
}

}  // namespace
}  // namespace achilles::ehr
