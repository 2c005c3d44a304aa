#include "services/engine/ranking.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace achilles::engine {

int CategoryOrder(v1::Category category) {
  switch (category) {
    case v1::CATEGORY_SAFETY:
      return 0;
    case v1::CATEGORY_REFERRAL:
      return 1;
    case v1::CATEGORY_LOAD_MANAGEMENT:
      return 2;
    case v1::CATEGORY_RETURN_TO_RUN:
      return 3;
    case v1::CATEGORY_EXERCISE:
      return 4;
    case v1::CATEGORY_FOOTWEAR:
      return 5;
    case v1::CATEGORY_EXPECTATIONS:
      return 6;
    case v1::CATEGORY_DATA_REQUEST:
      return 7;
    default:
      return 8;
  }
}

void ApplyContraindications(
    const std::vector<v1::Contraindication>& contraindications,
    std::vector<v1::Recommendation>* candidates,
    std::vector<v1::SuppressedRecommendation>* suppressed) {
  std::vector<v1::Recommendation> kept;
  for (auto& rec : *candidates) {
    const v1::Contraindication* hit = nullptr;
    // Identity is the provenance the engine stamped, never a plugin's name.
    if (rec.provenance() != v1::PROVENANCE_SAFETY_SCREEN) {
      for (const auto& c : contraindications) {
        if (std::find(rec.tags().begin(), rec.tags().end(), c.blocked_tag()) !=
            rec.tags().end()) {
          hit = &c;
          break;
        }
      }
    }
    if (hit == nullptr) {
      kept.push_back(std::move(rec));
      continue;
    }
    auto& s = suppressed->emplace_back();
    s.set_reason(absl::StrCat("Blocked by ", hit->rule_id(), " (",
                              hit->raised_by(), "): ", hit->reason(),
                              hit->sources().empty() ? "" : "; source ",
                              absl::StrJoin(hit->sources(), ", ")));
    s.set_contraindication_id(hit->id());
    *s.mutable_recommendation() = std::move(rec);
  }
  *candidates = std::move(kept);
  std::sort(suppressed->begin(), suppressed->end(),
            [](const auto& a, const auto& b) {
              return a.recommendation().id() < b.recommendation().id();
            });
}

void Rank(std::vector<v1::Recommendation>* recs) {
  auto key = [](const v1::Recommendation& r) {
    return std::make_tuple(-static_cast<int>(r.severity()),
                           CategoryOrder(r.category()), -r.priority(),
                           std::cref(r.id()));
  };
  std::stable_sort(
      recs->begin(), recs->end(),
      [&](const auto& a, const auto& b) { return key(a) < key(b); });
  for (size_t i = 0; i < recs->size(); ++i) {
    (*recs)[i].set_rank(static_cast<int>(i + 1));
  }
}

}  // namespace achilles::engine
