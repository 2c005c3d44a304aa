// The order-sign service: a clinician's draft orders (CDS Hooks
// context.draftOrders, a FHIR Bundle) checked against the patient's
// evaluation. An order is understood through its code in kOrderSystem
// (docs/EHR.md has the table): each code stands for the recommendation
// tags of docs/TAGS.md that the order involves. An order conflicts when a
// contraindication of the built-in rules blocks one of its tags (the
// safety screen's and the engine's own blocks, recomputed by the pure
// rules over the evaluation's inputs). Plugins' blocks are not checked:
// an evaluation keeps only the advice they suppressed, not which tag.
// Orders with other codes are not judged.
//
// Pure and deterministic; thread-safe.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_ORDER_SIGN_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_ORDER_SIGN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"
#include "services/ehr/internal/cards.h"
#include "services/ehr/internal/json_util.h"

namespace achilles::ehr_internal {

inline constexpr char kOrderSystem[] = "urn:achilles-cds:fhir:order";

struct DraftOrder {
  std::string reference;  // "ServiceRequest/<id>", or the entry's fullUrl.
  std::string label;      // code.text, else the code.
  std::string code;       // In kOrderSystem; empty when none.
  std::vector<std::string> tags;  // What the code involves.
};

// The orders of context.draftOrders. INVALID_ARGUMENT naming the element
// when it is not a Bundle of resources.
absl::StatusOr<std::vector<DraftOrder>> ReadDraftOrders(const Json& bundle);

// The tags an order code stands for; empty for a code not in the table.
const std::vector<std::string>& TagsOfOrderCode(const std::string& code);

struct Block {
  std::string rule_id;
  std::string tag;
  std::string reason;
};

// Every tag the evaluation blocks, with the rule and reason. `timeline` is
// the patient's timeline as of the evaluation.
std::vector<Block> BlocksOf(const v1::Evaluation& evaluation,
                            const std::vector<v1::Event>& timeline);

// One card per order that a block conflicts with, in order of the draft
// orders; the card explains the block with the evaluation's advice for
// that rule when there is some (and its uuid is that advice's, so
// feedback maps onto it).
OJson ConflictCards(const std::vector<DraftOrder>& orders,
                    const std::vector<Block>& blocks,
                    const v1::Evaluation& evaluation, const CardLinks& links);

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_ORDER_SIGN_H_
