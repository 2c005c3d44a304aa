#include "services/engine/engine.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "achilles/recommend.h"
#include "common/digest.h"
#include "common/proto_bytes.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "services/engine/confidence.h"
#include "services/engine/features.h"
#include "services/engine/internal/plugin_calls.h"
#include "services/engine/internal/timeline_view.h"
#include "services/engine/ranking.h"
#include "services/engine/rules/rules.h"

namespace achilles::engine {
namespace {

using ::achilles::v1::Evaluation;
using ::achilles::v1::Recommendation;

Recommendation DataRequest(const std::string& gap) {
  sdk::Recommend r("");
  r.Info(v1::CATEGORY_DATA_REQUEST)
      .Summary(gap.size() <= 120 ? gap : gap.substr(0, 117) + "...")
      .Detail(gap)
      .Rule("DATA",
            "Advice that depends on missing data is held back or given "
            "with lower confidence until the data is recorded.",
            "value not recorded")
      .Observe("recorded in the timeline", "no");
  v1::Recommendation* out = r.Mutable();
  out->set_id(absl::StrCat("data/", Sha256Hex(gap).substr(0, 12)));
  out->set_plugin_id(kEngineRuleId);
  out->set_plugin_version(ACHILLES_VERSION);
  out->set_provenance(v1::PROVENANCE_ENGINE_RULE);
  return std::move(*out);
}

// Whole days from each observation to as_of, so a clinician sees how old
// every input behind the advice is.
void StampAges(int64_t as_of_us, Recommendation* r) {
  for (auto& o : *r->mutable_rationale()->mutable_observed()) {
    if (o.has_observed_at()) {
      o.set_age_days(
          engine_internal::DaysBetween(ToMicros(o.observed_at()), as_of_us));
    }
  }
}

}  // namespace

v1::ClinicPolicy DefaultPolicy() {
  v1::ClinicPolicy p;
  NormalizePolicy(&p);
  return p;
}

void NormalizePolicy(v1::ClinicPolicy* p) {
  if (p->pain_model() == v1::PAIN_MODEL_UNSPECIFIED) {
    p->set_pain_model(v1::PAIN_MODEL_TRAFFIC_LIGHT_3_5);
  }
  if (p->silbernagel_max_ok() == 0) p->set_silbernagel_max_ok(5);
  if (p->recency_window_days() == 0) {
    p->set_recency_window_days(kDefaultRecencyWindowDays);
  }
  if (p->trend_weeks() == 0) p->set_trend_weeks(kDefaultTrendWeeks);
  if (p->strengthening_programme() == v1::STRENGTHENING_PROGRAMME_UNSPECIFIED) {
    p->set_strengthening_programme(v1::STRENGTHENING_PROGRAMME_HSR);
  }
  if (p->eccentric_dose() == v1::ECCENTRIC_DOSE_UNSPECIFIED) {
    p->set_eccentric_dose(v1::ECCENTRIC_DOSE_ALFREDSON);
  }
  std::sort(p->mutable_disabled_plugins()->begin(),
            p->mutable_disabled_plugins()->end());
}

namespace {

// Advice gathered from the built-in rules and the plugins, before the
// contraindication filter and ranking.
struct Gathered {
  std::vector<Recommendation> recs;
  std::vector<v1::Contraindication> contraindications;
  std::vector<std::string> gaps;
};

Evaluation Header(const TimelineInput& in) {
  Evaluation ev;
  ev.set_clinic_id(in.clinic_id);
  ev.set_patient_id(in.patient_id);
  *ev.mutable_as_of() = FromMicros(in.as_of_us);
  ev.set_engine_version(kEngineVersion);
  ev.set_policy_version(in.policy->version());
  *ev.mutable_policy() = *in.policy;
  ev.set_event_count(static_cast<int>(in.timeline.size()));
  return ev;
}

// Fingerprint: one streaming hash over everything the result depends on
// (the plugins are added as they run), each piece length-framed. Events
// are hashed as stored when their bytes are at hand.
Sha256Stream FingerprintStart(const TimelineInput& in) {
  Sha256Stream fp;
  for (absl::string_view piece :
       {absl::string_view(kEngineVersion), absl::string_view(in.clinic_id),
        absl::string_view(in.patient_id)}) {
    fp.UpdateFramed(piece);
  }
  fp.UpdateFramed(absl::StrCat(in.as_of_us));
  fp.UpdateFramed(DeterministicBytes(*in.policy));
  // Stored bytes only when they line up with the events (as the plugin
  // request writer checks too).
  const bool stored =
      in.event_bytes != nullptr && in.event_bytes->size() == in.timeline.size();
  for (size_t i = 0; i < in.timeline.size(); ++i) {
    if (stored) {
      fp.UpdateFramed((*in.event_bytes)[i]);
    } else {
      fp.UpdateFramed(DeterministicBytes(in.timeline[i]));
    }
  }
  return fp;
}

// Gaps: deduplicated, in a stable order, each also a data request.
void AddDataRequests(bool empty_timeline, Evaluation* ev, Gathered* g) {
  std::sort(g->gaps.begin(), g->gaps.end());
  g->gaps.erase(std::unique(g->gaps.begin(), g->gaps.end()), g->gaps.end());
  if (empty_timeline) {
    g->gaps.insert(g->gaps.begin(),
                   "No events recorded yet: record a clinical finding "
                   "(location, stage), a VISA-A score and pain reports.");
  }
  for (const auto& gap : g->gaps) {
    ev->add_data_gaps(gap);
    g->recs.push_back(DataRequest(gap));
  }
}

void FilterAndRank(int64_t as_of_us, Gathered* g, Evaluation* ev) {
  std::vector<v1::SuppressedRecommendation> suppressed;
  ApplyContraindications(g->contraindications, &g->recs, &suppressed);
  Rank(&g->recs);
  for (auto& r : g->recs) {
    StampAges(as_of_us, &r);
    *ev->add_recommendations() = std::move(r);
  }
  for (auto& s : suppressed) {
    StampAges(as_of_us, s.mutable_recommendation());
    *ev->add_suppressed() = std::move(s);
  }
}

}  // namespace

Evaluation EvaluateTimeline(const TimelineInput& in,
                            const plugins::PluginSet& plugin_set,
                            absl::Duration plugin_timeout) {
  Evaluation ev = Header(in);
  Sha256Stream fp = FingerprintStart(in);
  std::string fp_input;  // The plugins' part.
  v1::Features features = ComputeFeatures(in.timeline, in.as_of_us, *in.policy);
  ScreenResult screen =
      RunBuiltInRules(in.timeline, in.as_of_us, *in.policy, &features);
  Gathered g{std::move(screen.recommendations),
             std::move(screen.contraindications), std::move(screen.data_gaps)};
  engine_internal::RunPlugins(plugin_set, in, features, plugin_timeout, &ev,
                              &fp_input,
                              {&g.recs, &g.contraindications, &g.gaps});
  AddDataRequests(in.timeline.empty(), &ev, &g);
  FilterAndRank(in.as_of_us, &g, &ev);
  *ev.mutable_features() = std::move(features);
  AssessConfidence(&ev);
  fp.UpdateFramed(fp_input);
  ev.set_input_fingerprint(fp.HexDigest());
  // The id names the content as well as the inputs: a plugin that fails on
  // one run and answers on the next gives two evaluations, two ids, and
  // neither overwrites the other.
  fp.UpdateFramed(DeterministicBytes(ev));
  ev.set_evaluation_id(fp.HexDigest().substr(0, 32));
  return ev;
}

absl::StatusOr<v1::ClinicPolicy> Engine::CurrentPolicy(
    const std::string& clinic) {
  uint64_t generation;
  {
    absl::MutexLock lock(&policy_mu_);
    auto it = policies_.find(clinic);
    if (it != policies_.end()) return *it->second;
    generation = policy_generation_;
  }
  auto stored = store_->GetPolicy(clinic, 0);
  if (absl::IsNotFound(stored.status())) stored = DefaultPolicy();
  if (!stored.ok()) return stored.status();
  NormalizePolicy(&*stored);
  auto shared = std::make_shared<const v1::ClinicPolicy>(*stored);
  absl::MutexLock lock(&policy_mu_);
  if (generation == policy_generation_) {
    if (policies_.size() >= kMaxCachedPolicies) policies_.clear();
    policies_[clinic] = std::move(shared);
  }
  return stored;
}

absl::Status Engine::SetPolicy(const std::string& clinic,
                               v1::ClinicPolicy& policy,
                               int64_t expected_version) {
  absl::Status st = store_->PutPolicy(clinic, policy, expected_version);
  // Invalidate even on failure: a write that failed part way (disk) may
  // still have landed, and the next read asks the store.
  absl::MutexLock lock(&policy_mu_);
  ++policy_generation_;
  policies_.erase(clinic);
  return st;
}

absl::StatusOr<Evaluation> Engine::Evaluate(const std::string& clinic,
                                            const std::string& patient_id,
                                            const EvaluateOptions& options) {
  auto patient = store_->GetPatient(clinic, patient_id, options.snapshot);
  if (!patient.ok()) return patient.status();
  v1::ClinicPolicy policy;
  if (options.policy_override != nullptr) {
    policy = *options.policy_override;
    NormalizePolicy(&policy);
  } else {
    auto current = CurrentPolicy(clinic);
    if (!current.ok()) return current.status();
    policy = *std::move(current);
  }
  const int64_t as_of = options.as_of_us.value_or(NowMicros());
  // With the bytes as stored: plugin requests and the fingerprint are
  // built from them instead of serializing every event again.
  auto timeline =
      store_->LoadStoredTimeline(clinic, patient_id, as_of, options.snapshot);
  if (!timeline.ok()) return timeline.status();
  std::shared_ptr<const plugins::PluginSet> set =
      options.plugins != nullptr ? options.plugins : host_->Current();
  TimelineInput input{clinic,           patient_id, as_of,
                      timeline->events, &policy,    &timeline->bytes};
  Evaluation ev = EvaluateTimeline(input, *set, host_->options().call_timeout);
  // Dry runs are audited with the call that asked for them (the API layer).
  if (!options.dry_run) {
    ACH_RETURN_IF_ERROR(store_->PutEvaluation(ev, options.durability));
  }
  return ev;
}

}  // namespace achilles::engine
