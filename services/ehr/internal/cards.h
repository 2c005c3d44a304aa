// An Evaluation as CDS Hooks 2.0 cards: one card per active
// recommendation, in the engine's rank order. Pure and deterministic.
//
// summary < 140 chars; detail is markdown with the rationale (observed
// values with dates, rule, threshold, policy, sources); indicator from the
// severity; source labels the producer and links the rule's reference;
// a prescription becomes a suggestion (a draft ServiceRequest); every card
// offers override reasons and a link to the clinician report. At most
// kMaxCards cards, but a safety-screen card is never dropped.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_CARDS_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_CARDS_H_

#include <functional>
#include <string>

#include "achilles/v1/evaluation.pb.h"
#include "services/ehr/internal/json_util.h"

namespace achilles::ehr_internal {

inline constexpr int kMaxCards = 12;
inline constexpr size_t kMaxSummary = 139;
inline constexpr char kOverrideSystem[] =
    "urn:achilles-cds:fhir:override-reason";

struct CardLinks {
  std::string rules_url;   // Base of the rule reference; "#<rule id>" added.
  std::string report_url;  // The clinician report for this patient.
  // The card's uuid for a recommendation id (the caller remembers it for
  // feedback). `about` tells apart cards of one recommendation (the draft
  // order an order-sign card is about); empty for patient-view.
  std::function<std::string(const std::string& rec_id,
                            const std::string& about)>
      uuid_for;
  std::string about;  // Passed to uuid_for by CardFor.
};

OJson CardsFor(const v1::Evaluation& evaluation, const CardLinks& links);
// The card of one recommendation of `evaluation`.
OJson CardFor(const v1::Recommendation& recommendation,
              const v1::Evaluation& evaluation, const CardLinks& links);
// Markdown special characters escaped, so text stays text.
std::string Md(const std::string& text);
// The override reasons offered on every card (codes in kOverrideSystem).
const std::vector<std::pair<std::string, std::string>>& OverrideReasons();
// Summary cut to kMaxSummary characters on a UTF-8 boundary, with "...".
std::string ShortSummary(const std::string& summary);

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_CARDS_H_
