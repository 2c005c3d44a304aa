#include "services/engine/confidence.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace achilles::engine {
namespace {

void FillCompleteness(const v1::Evaluation& ev, v1::Completeness* c) {
  for (const auto& run : ev.plugins()) {
    if (run.status() == v1::PLUGIN_RUN_STATUS_DISABLED) continue;
    c->set_plugins_enabled(c->plugins_enabled() + 1);
    if (run.status() == v1::PLUGIN_RUN_STATUS_OK) {
      c->set_plugins_answered(c->plugins_answered() + 1);
    } else {
      c->add_failed_plugins(run.plugin_id());
    }
  }
  c->set_data_gaps(ev.data_gaps_size());
  for (const auto& s : ev.features().recency().stale_inputs()) {
    c->add_stale_inputs(s);
  }
  c->set_only_data_requests(std::all_of(
      ev.recommendations().begin(), ev.recommendations().end(),
      [](const auto& r) { return r.category() == v1::CATEGORY_DATA_REQUEST; }));
  c->set_complete(c->failed_plugins().empty() && c->data_gaps() == 0 &&
                  c->stale_inputs().empty());
}

double LowestAdviceConfidence(const v1::Evaluation& ev) {
  double lowest = 1.0;
  bool any = false;
  for (const auto& r : ev.recommendations()) {
    if (r.category() == v1::CATEGORY_DATA_REQUEST) continue;
    lowest = std::min(lowest, r.confidence());
    any = true;
  }
  return any ? lowest : 0.0;
}

}  // namespace

void AssessConfidence(v1::Evaluation* ev) {
  v1::Completeness* c = ev->mutable_completeness();
  c->Clear();
  FillCompleteness(*ev, c);
  ev->clear_confidence_reasons();
  auto reason = [&](std::string r) {
    ev->add_confidence_reasons(std::move(r));
  };
  if (!c->failed_plugins().empty()) {
    reason(absl::StrCat(
        "plugin(s) failed: ", absl::StrJoin(c->failed_plugins(), ", "),
        "; their advice is missing"));
  }
  for (const auto& s : c->stale_inputs()) {
    reason(absl::StrCat("stale data: ", s));
  }
  if (c->only_data_requests()) {
    reason("only data requests: not enough data for advice");
  }
  if (c->data_gaps() > 0) {
    reason(absl::StrCat(c->data_gaps(), " data gap(s) listed"));
  }
  const bool low = !c->failed_plugins().empty() || !c->stale_inputs().empty() ||
                   c->only_data_requests();
  ev->set_confidence_level(low                  ? v1::CONFIDENCE_LEVEL_LOW
                           : c->data_gaps() > 0 ? v1::CONFIDENCE_LEVEL_MODERATE
                                                : v1::CONFIDENCE_LEVEL_HIGH);
  double value = LowestAdviceConfidence(*ev);
  if (c->plugins_enabled() > 0) {
    value *= static_cast<double>(c->plugins_answered()) / c->plugins_enabled();
  }
  if (!c->stale_inputs().empty()) value *= 0.5;
  ev->set_confidence(value);
}

}  // namespace achilles::engine
