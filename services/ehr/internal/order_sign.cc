#include "services/ehr/internal/order_sign.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/engine/features.h"
#include "services/engine/rules/rules.h"

namespace achilles::ehr_internal {
namespace {

// Orders one order-sign call may carry (a bound on the work it asks for).
constexpr size_t kMaxDraftOrders = 100;

// Order code (kOrderSystem) -> the tags of docs/TAGS.md it involves.
// docs/EHR.md keeps the same table for integrators.
const std::map<std::string, std::vector<std::string>>& OrderCodes() {
  static const auto* codes =
      new std::map<std::string, std::vector<std::string>>{
          {"running", {"running"}},
          {"running-progression",
           {"running", "run_progression", "progression"}},
          {"running-hills", {"running", "hills"}},
          {"running-speed", {"running", "speed_work"}},
          {"running-downhill", {"running", "downhill_running"}},
          {"racing", {"running", "racing"}},
          {"calf-loading", {"exercise"}},
          {"calf-loading-progression",
           {"exercise", "exercise_progression", "progression",
            "load_increase"}},
          {"heavy-slow-resistance", {"exercise", "heavy_loading"}},
          {"heel-drop-below-step", {"exercise", "heel_below_step"}},
          {"calf-stretch", {"dorsiflexion_stretch"}},
      };
  return *codes;
}

DraftOrder ReadOrder(const Json& entry, const Json& r) {
  DraftOrder o;
  const std::string type = StringMember(r, "resourceType").value_or("");
  const std::string id = StringMember(r, "id").value_or("");
  o.reference = id.empty() ? StringMember(entry, "fullUrl").value_or(type)
                           : absl::StrCat(type, "/", id);
  const Json* code = Member(r, "code");
  // A ServiceRequest's code; a MedicationRequest names medicationCodeable-
  // Concept, which no code of ours stands for.
  const Json* codings = code ? Member(*code, "coding") : nullptr;
  if (codings != nullptr && codings->is_array()) {
    for (const auto& c : *codings) {
      if (StringMember(c, "system").value_or("") == kOrderSystem) {
        o.code = StringMember(c, "code").value_or("");
        break;
      }
    }
  }
  o.label = code ? StringMember(*code, "text").value_or(o.code) : o.code;
  if (o.label.empty()) o.label = o.reference;
  o.tags = TagsOfOrderCode(o.code);
  return o;
}

const v1::Recommendation* AdviceFor(const v1::Evaluation& ev,
                                    const std::string& rule_id) {
  for (const auto& r : ev.recommendations()) {
    if (r.rationale().rule_id() == rule_id) return &r;
  }
  return nullptr;
}

const Block* FirstBlock(const DraftOrder& order,
                        const std::vector<Block>& blocks) {
  for (const Block& b : blocks) {
    if (std::find(order.tags.begin(), order.tags.end(), b.tag) !=
        order.tags.end()) {
      return &b;
    }
  }
  return nullptr;
}

OJson ConflictCard(const DraftOrder& order, const Block& block,
                   const v1::Evaluation& ev, const CardLinks& links) {
  const v1::Recommendation* advice = AdviceFor(ev, block.rule_id);
  v1::Recommendation r;
  if (advice != nullptr) {
    r = *advice;
    r.clear_prescription();  // The card is about the order, not a new one.
  } else {
    r.set_id(absl::StrCat("contraindication/", block.rule_id));
    r.set_severity(v1::SEVERITY_WARNING);
    r.set_provenance(v1::PROVENANCE_SAFETY_SCREEN);
    r.mutable_rationale()->set_rule_id(block.rule_id);
    r.mutable_rationale()->set_rule(block.reason);
  }
  if (r.severity() != v1::SEVERITY_CRITICAL) {
    r.set_severity(v1::SEVERITY_WARNING);
  }
  // One card per order, even when one rule blocks several.
  CardLinks order_links = links;
  order_links.about = order.reference;
  OJson card = CardFor(r, ev, order_links);
  card["summary"] = ShortSummary(absl::StrCat(
      "Reconsider this order (rule ", block.rule_id, "): ", order.label));
  card["detail"] = absl::StrCat(
      "**Draft order**: ", Md(order.label), " (", Md(order.reference),
      ", code ", Md(order.code), ")\n\n**Not now**: rule ", Md(block.rule_id),
      " blocks ", Md(block.tag), ": ", Md(block.reason), "\n\n",
      card["detail"].get<std::string>());
  return card;
}

}  // namespace

const std::vector<std::string>& TagsOfOrderCode(const std::string& code) {
  static const std::vector<std::string> kNone;
  auto it = OrderCodes().find(code);
  return it == OrderCodes().end() ? kNone : it->second;
}

absl::StatusOr<std::vector<DraftOrder>> ReadDraftOrders(const Json& bundle) {
  if (StringMember(bundle, "resourceType").value_or("") != "Bundle") {
    return absl::InvalidArgumentError(
        "context.draftOrders: must be a FHIR Bundle");
  }
  const Json* entries = Member(bundle, "entry");
  if (entries == nullptr || !entries->is_array()) {
    return absl::InvalidArgumentError(
        "context.draftOrders.entry: must be an array");
  }
  // Refused, not cut: an order past a silent cap would go unchecked.
  if (entries->size() > kMaxDraftOrders) {
    return absl::InvalidArgumentError(
        absl::StrCat("context.draftOrders.entry: ", entries->size(),
                     " orders; at most ", kMaxDraftOrders, " per call"));
  }
  std::vector<DraftOrder> out;
  for (size_t i = 0; i < entries->size(); ++i) {
    const Json* r = Member((*entries)[i], "resource");
    if (r == nullptr || !r->is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("context.draftOrders.entry[", i, "].resource: missing"));
    }
    out.push_back(ReadOrder((*entries)[i], *r));
  }
  return out;
}

std::vector<Block> BlocksOf(const v1::Evaluation& ev,
                            const std::vector<v1::Event>& timeline) {
  // The built-in rules are pure: over the evaluation's own inputs they
  // raise the contraindications the evaluation was filtered by.
  const int64_t as_of = ToMicros(ev.as_of());
  v1::Features features = engine::ComputeFeatures(timeline, as_of, ev.policy());
  engine::ScreenResult screen =
      engine::RunBuiltInRules(timeline, as_of, ev.policy(), &features);
  std::vector<Block> out;
  for (const auto& c : screen.contraindications) {
    out.push_back({c.rule_id(), c.blocked_tag(), c.reason()});
  }
  return out;
}

OJson ConflictCards(const std::vector<DraftOrder>& orders,
                    const std::vector<Block>& blocks, const v1::Evaluation& ev,
                    const CardLinks& links) {
  OJson cards = OJson::array();
  for (const DraftOrder& order : orders) {
    if (const Block* b = FirstBlock(order, blocks)) {
      cards.push_back(ConflictCard(order, *b, ev, links));
    }
  }
  return cards;
}

}  // namespace achilles::ehr_internal
