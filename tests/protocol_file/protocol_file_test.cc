// Protocol files: reading (every refusal names FILE:LINE:COLUMN), the Lua
// sandbox (no I/O, bounded instructions and memory, no address leaks) and
// evaluation into a PluginResponse the host accepts.
#include "plugins/protocol_file/protocol_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace achilles::protocol_file {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A small valid protocol; tests break it one line at a time. Line numbers
// in the expectations count from the first line of this text.
constexpr char kBase[] = R"(format: 1
id: demo
version: 1.0.0
display_name: Demo protocol
protocols: [demo]
event_kinds: [questionnaire]
sources:
  - key: VISA
    citation: Robinson JM et al. Br J Sports Med. 2001;35(5):335-341.
let:
  gain: |
    features.visa_a_latest.value
      - features.visa_a_first.value
rules:
  - when: features.visa_a_latest.present and gain < 10
    recommend:
      id: review
      severity: warning
      category: exercise
      summary: "Gained {int(gain)} points"
      rationale:
        rule_id: CLINIC-DEMO
        sources: [VISA]
        observed:
          - label: latest VISA-A
            value: "{int(features.visa_a_latest.value)}"
            feature: visa_a_latest
)";

std::string Broken(const std::string& from, const std::string& to) {
  std::string text = kBase;
  std::string out = absl::StrReplaceAll(text, {{from, to}});
  EXPECT_NE(out, text) << "test setup: '" << from << "' not in the base";
  return out;
}

std::string LoadError(const std::string& text) {
  auto p = Protocol::Parse(text, "demo.protocol.yaml");
  EXPECT_FALSE(p.ok());
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

v1::PluginRequest Request(double first, double latest, int64_t days) {
  v1::PluginRequest r;
  const int64_t t0 = 1767571200;  // 2026-01-05
  r.mutable_as_of()->set_seconds(t0 + days * 86400);
  auto* f = r.mutable_features();
  f->mutable_visa_a_first()->set_present(true);
  f->mutable_visa_a_first()->set_value(first);
  f->mutable_visa_a_first()->add_event_ids("v1");
  f->mutable_visa_a_first()->mutable_at()->set_seconds(t0);
  f->mutable_visa_a_latest()->set_present(true);
  f->mutable_visa_a_latest()->set_value(latest);
  f->mutable_visa_a_latest()->add_event_ids("v2");
  f->mutable_visa_a_latest()->mutable_at()->set_seconds(t0 + days * 86400);
  return r;
}

TEST(ProtocolFileTest, BaseLoadsWithItsMetadata) {
  auto p = Protocol::Parse(kBase, "demo.protocol.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->metadata().id, "demo");
  EXPECT_EQ((*p)->metadata().version, "1.0.0");
  EXPECT_EQ((*p)->metadata().display_name, "Demo protocol");
  EXPECT_EQ((*p)->metadata().event_kinds,
            std::vector<std::string>{"questionnaire"});
  ASSERT_EQ((*p)->metadata().sources.size(), 1u);
  EXPECT_EQ((*p)->metadata().sources[0].key, "VISA");
}

TEST(ProtocolFileTest, UnknownFeatureNamesLineAndColumnOfTheName) {
  // Line 15 is the rule's when; the misspelt name starts at column 20.
  EXPECT_THAT(LoadError(Broken("when: features.visa_a_latest.present",
                               "when: features.visa_a_lastest.present")),
              StartsWith("demo.protocol.yaml:15:20: rules[0].when: "
                         "'visa_a_lastest' is not a field of "
                         "achilles.v1.Features"));
}

TEST(ProtocolFileTest, UnknownFeatureInsideABlockScalarAndATemplate) {
  // Line 13 of the let block: "      - features.visa_a_frist.value".
  EXPECT_THAT(LoadError(Broken("- features.visa_a_first.value",
                               "- features.visa_a_frist.value")),
              StartsWith("demo.protocol.yaml:13:18: let.gain: 'visa_a_frist'"));
  // A template hole on line 26: value: "{int(features.visa_a_latest.vale)}".
  EXPECT_THAT(LoadError(Broken("{int(features.visa_a_latest.value)}",
                               "{int(features.visa_a_latest.vale)}")),
              StartsWith("demo.protocol.yaml:26:49: rules[0].recommend."
                         "rationale.observed[0].value: 'vale' is not a field "
                         "of achilles.v1.Feature"));
}

TEST(ProtocolFileTest, LuaSyntaxErrorGivesTheFileLine) {
  // The second line of the let block (file line 13, from column 5) is
  // broken; Lua gives the line, so the column is where that line starts.
  EXPECT_THAT(
      LoadError(Broken("      - features.visa_a_first.value",
                       "      - - ) features.visa_a_first.value")),
      StartsWith("demo.protocol.yaml:13:5: let.gain: unexpected symbol"));
}

TEST(ProtocolFileTest, YamlSyntaxErrorGivesTheParsersPosition) {
  EXPECT_THAT(
      LoadError(Broken("summary: \"Gained {int(gain)} points\"",
                       "summary: \"Gained {int(gain)} points")),
      ::testing::MatchesRegex("demo\\.protocol\\.yaml:2[0-9]:[0-9]+: .*"));
}

TEST(ProtocolFileTest, ShapeAndValueErrorsPointAtTheirKey) {
  EXPECT_THAT(
      LoadError(Broken("      severity: warning", "      severty: warning")),
      StartsWith("demo.protocol.yaml:18:7: unknown key 'severty' in "
                 "rules[0].recommend"));
  EXPECT_THAT(LoadError(Broken("sources: [VISA]", "sources: [VISA, S99]")),
              StartsWith("demo.protocol.yaml:23:25: source 'S99' is not "
                         "declared under sources"));
  EXPECT_THAT(LoadError(Broken("id: demo", "id: safety")),
              StartsWith("demo.protocol.yaml:2:5: id 'safety' is reserved"));
  EXPECT_THAT(LoadError(Broken("[questionnaire]", "[questionaire]")),
              StartsWith("demo.protocol.yaml:6:15: event kind 'questionaire' "
                         "is not one of"));
  EXPECT_THAT(LoadError(Broken("severity: warning", "severity: critical")),
              AllOf(StartsWith("demo.protocol.yaml:18:17: severity must be"),
                    HasSubstr("safety screen")));
  EXPECT_THAT(
      LoadError(Broken("\"Gained {int(gain)} points\"",
                       "\"Gained {int(gain) points\"")),
      StartsWith("demo.protocol.yaml:20:24: rules[0].recommend.summary: "
                 "unclosed {"));
  EXPECT_THAT(LoadError(Broken("version: 1.0.0", "version: one")),
              StartsWith("demo.protocol.yaml:3:10: version must be"));
}

TEST(ProtocolFileTest, ATemplateLuaCannotCompileIsRefusedAtLoad) {
  std::string holes;
  for (int i = 0; i < 400; ++i) holes += "{1}";
  EXPECT_THAT(
      LoadError(Broken("\"Gained {int(gain)} points\"", "\"" + holes + "\"")),
      StartsWith("demo.protocol.yaml:20:17: rules[0].recommend.summary: "));
}

TEST(ProtocolFileTest, EvaluatesIntoACompleteCandidate) {
  auto p = Protocol::Parse(kBase, "demo.protocol.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  auto r = (*p)->Evaluate(Request(50, 55, 49));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->candidates_size(), 1);
  const v1::Recommendation& c = r->candidates(0);
  EXPECT_EQ(c.id(), "review");
  EXPECT_EQ(c.summary(), "Gained 5 points");
  EXPECT_EQ(c.severity(), v1::SEVERITY_WARNING);
  EXPECT_EQ(c.category(), v1::CATEGORY_EXERCISE);
  EXPECT_EQ(c.rationale().rule_id(), "CLINIC-DEMO");
  ASSERT_EQ(c.rationale().observed_size(), 1);
  EXPECT_EQ(c.rationale().observed(0).value(), "55");
  EXPECT_EQ(c.rationale().observed(0).event_ids(0), "v2");
  EXPECT_EQ(c.rationale().observed(0).observed_at().seconds(),
            1767571200 + 49 * 86400);
  auto quiet = (*p)->Evaluate(Request(50, 65, 49));
  ASSERT_TRUE(quiet.ok()) << quiet.status();
  EXPECT_EQ(quiet->candidates_size(), 0);
}

// A protocol whose first rule's when is `expr`.
std::string WithWhen(const std::string& expr) {
  return Broken("  - when: features.visa_a_latest.present and gain < 10",
                "  - when: |\n      " + expr);
}

absl::Status EvaluateWhen(const std::string& expr, Limits limits = Limits()) {
  auto p = Protocol::Parse(WithWhen(expr), "demo.protocol.yaml", limits);
  if (!p.ok()) return p.status();
  return (*p)->Evaluate(Request(50, 55, 49)).status();
}

TEST(ProtocolSandboxTest, NoIoNoLoaderNoClockNoPairs) {
  auto p = Protocol::Parse(
      WithWhen("io == nil and os == nil and require == nil and load == nil "
               "and loadstring == nil and dofile == nil and loadfile == nil "
               "and package == nil and debug == nil and collectgarbage == nil "
               "and pairs == nil and next == nil and pcall == nil "
               "and string.dump == nil and string.rep == nil "
               "and math.random == nil and print == nil"),
      "demo.protocol.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  auto r = (*p)->Evaluate(Request(50, 55, 49));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->candidates_size(), 1);  // Every one of them was nil.
  absl::Status io = EvaluateWhen("io.open('/etc/passwd')");
  EXPECT_EQ(io.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(io.message()),
              AllOf(StartsWith("demo.protocol.yaml:16: rules[0].when: "),
                    HasSubstr("global 'io'")));
  EXPECT_THAT(std::string(EvaluateWhen("os.time() > 0").message()),
              HasSubstr("global 'os'"));
  EXPECT_THAT(std::string(EvaluateWhen("require('os')").message()),
              HasSubstr("global 'require'"));
}

TEST(ProtocolSandboxTest, InfiniteLoopStopsAtTheBudget) {
  const absl::Time start = absl::Now();
  absl::Status st = EvaluateWhen("(function() while true do end end)()");
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("instruction budget of 5000000 exhausted"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(ProtocolSandboxTest, MemoryBombStopsAtTheLimit) {
  Limits limits;
  limits.memory_bytes = 4 << 20;
  absl::Status st = EvaluateWhen(
      "(function() local s = 'x' for i = 1, 40 do s = s .. s end "
      "return s end)() ~= nil",
      limits);
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("memory limit of 4194304 bytes exhausted"));
}

TEST(ProtocolSandboxTest, RequestIsReadOnlyAndAddressesNeverPrint) {
  EXPECT_THAT(std::string(EvaluateWhen("(function() features.stage = 1 "
                                       "return true end)()")
                              .message()),
              HasSubstr("read-only"));
  EXPECT_THAT(std::string(EvaluateWhen("tostring({}) ~= ''").message()),
              HasSubstr("has no stable text"));
  EXPECT_THAT(std::string(EvaluateWhen("features['no_such_field']").message()),
              HasSubstr("no field 'no_such_field' in achilles.v1.Features"));
}

TEST(ProtocolSandboxTest, SameRequestSameBytes) {
  auto p = Protocol::Parse(kBase, "demo.protocol.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  auto a = (*p)->Evaluate(Request(50, 55, 49));
  auto b = (*p)->Evaluate(Request(50, 55, 49));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->SerializeAsString(), b->SerializeAsString());
}

TEST(ProtocolExamplesTest, BothShippedExamplesLoad) {
  for (const char* name :
       {"isometric.protocol.yaml", "visa_a_review.protocol.yaml"}) {
    auto p = Protocol::Load(absl::StrCat(EXAMPLES_DIR, "/", name), name);
    EXPECT_TRUE(p.ok()) << p.status();
  }
}

}  // namespace
}  // namespace achilles::protocol_file
