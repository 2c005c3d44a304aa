#include "services/engine/internal/plugin_calls.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/proto_bytes.h"
#include "common/time_util.h"

namespace achilles::engine::engine_internal {
namespace {

// PluginRequest's field numbers, as plugin.proto gives them.
constexpr int kTimelineField = 4;
constexpr int kFeaturesField = 5;
constexpr int kPolicyField = 6;

void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// A length-delimited field (wire type 2): tag, length, bytes.
void AppendField(int number, absl::string_view bytes, std::string* out) {
  AppendVarint((static_cast<uint64_t>(number) << 3) | 2, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

bool Disabled(const v1::ClinicPolicy& policy, const std::string& id) {
  return std::find(policy.disabled_plugins().begin(),
                   policy.disabled_plugins().end(),
                   id) != policy.disabled_plugins().end();
}

// The engine, not the plugin, says who produced advice: whatever a plugin
// put in these fields is overwritten.
void StampPluginAnswer(const plugins::PluginRecord& rec,
                       v1::PluginResponse* response,
                       const PluginAnswers& answers) {
  for (auto& c : *response->mutable_candidates()) {
    c.set_id(absl::StrCat(rec.id, "/", c.id()));
    c.set_plugin_id(rec.id);
    c.set_plugin_version(rec.version);
    c.set_provenance(v1::PROVENANCE_PLUGIN);
    c.set_rank(0);
    answers.recommendations->push_back(std::move(c));
  }
  for (auto& c : *response->mutable_contraindications()) {
    c.set_id(absl::StrCat(rec.id, "/", c.id()));
    c.set_raised_by(rec.id);
    c.set_provenance(v1::PROVENANCE_PLUGIN);
    answers.contraindications->push_back(std::move(c));
  }
  for (auto& g : *response->mutable_data_gaps()) answers.gaps->push_back(g);
}

// Adds `rec` to the evaluation's runs and the fingerprint input.
v1::PluginRun* RecordRun(const plugins::PluginRecord& rec, bool disabled,
                         v1::Evaluation* ev, std::string* fingerprint) {
  auto* run = ev->add_plugins();
  run->set_plugin_id(rec.id);
  run->set_plugin_version(rec.version);
  run->set_sha256(rec.sha256);
  absl::StrAppend(fingerprint, rec.id, "@", rec.version, "#", rec.sha256,
                  disabled ? ":off\n" : ":on\n");
  if (disabled) run->set_status(v1::PLUGIN_RUN_STATUS_DISABLED);
  return run;
}

}  // namespace

PluginRequestWriter::PluginRequestWriter(const TimelineInput& in,
                                         const v1::Features& features)
    : timeline_(in.timeline), events_(in.event_bytes) {
  if (events_ == nullptr || events_->size() != timeline_.size()) {
    serialized_.reserve(timeline_.size());
    for (const auto& e : timeline_)
      serialized_.push_back(DeterministicBytes(e));
    serialized_views_.assign(serialized_.begin(), serialized_.end());
    events_ = &serialized_views_;
  }
  // Fields 1-3 through the message itself, so proto3's rules for empty
  // strings hold exactly as they would for the whole request.
  v1::PluginRequest head;
  head.set_clinic_id(in.clinic_id);
  head.set_patient_id(in.patient_id);
  *head.mutable_as_of() = FromMicros(in.as_of_us);
  head_ = DeterministicBytes(head);
  AppendField(kFeaturesField, DeterministicBytes(features), &tail_);
  AppendField(kPolicyField, DeterministicBytes(*in.policy), &tail_);
}

std::string PluginRequestWriter::Build(
    const plugins::EventKindFilter& filter) const {
  size_t size = head_.size() + tail_.size();
  for (size_t i = 0; i < timeline_.size(); ++i) {
    if (filter.Takes(timeline_[i])) size += (*events_)[i].size() + 11;
  }
  std::string out;
  out.reserve(size);
  out = head_;
  for (size_t i = 0; i < timeline_.size(); ++i) {
    if (filter.Takes(timeline_[i])) {
      AppendField(kTimelineField, (*events_)[i], &out);
    }
  }
  out += tail_;
  return out;
}

std::vector<plugins::PluginCall> PlanPluginCalls(
    const plugins::PluginSet& set, const TimelineInput& in,
    const v1::Features& features, v1::Evaluation* ev, std::string* fingerprint,
    std::vector<v1::PluginRun*>* runs) {
  uint64_t present = 0;  // The kinds this timeline has.
  for (const auto& e : in.timeline) {
    present |= plugins::EventKindFilter::Bit(e);
  }
  std::optional<PluginRequestWriter> writer;
  std::map<uint64_t, std::shared_ptr<const std::string>> by_events;
  std::vector<plugins::PluginCall> calls;
  for (size_t i = 0; i < set.plugins.size(); ++i) {
    const plugins::LoadedPlugin& plugin = *set.plugins[i];
    const bool disabled = Disabled(*in.policy, plugin.record().id);
    v1::PluginRun* run = RecordRun(plugin.record(), disabled, ev, fingerprint);
    if (disabled) continue;
    if (!writer) writer.emplace(in, features);
    const plugins::EventKindFilter& filter = plugin.event_filter();
    // Filters that agree on this timeline's kinds take the same events.
    auto& request = by_events[filter.bits() & present];
    if (request == nullptr) {
      request = std::make_shared<const std::string>(writer->Build(filter));
    }
    calls.push_back({i, request});
    runs->push_back(run);
  }
  return calls;
}

void RunPlugins(const plugins::PluginSet& set, const TimelineInput& in,
                const v1::Features& features, absl::Duration timeout,
                v1::Evaluation* ev, std::string* fingerprint,
                const PluginAnswers& answers) {
  std::vector<v1::PluginRun*> runs;
  const std::vector<plugins::PluginCall> calls =
      PlanPluginCalls(set, in, features, ev, fingerprint, &runs);
  if (calls.empty()) return;
  auto results = set.CallAll(calls, timeout);
  for (size_t k = 0; k < calls.size(); ++k) {
    if (!results[k].ok()) {
      runs[k]->set_status(v1::PLUGIN_RUN_STATUS_FAILED);
      runs[k]->set_error(std::string(results[k].status().message()));
      continue;
    }
    runs[k]->set_status(v1::PLUGIN_RUN_STATUS_OK);
    StampPluginAnswer(set.plugins[calls[k].plugin]->record(), &*results[k],
                      answers);
  }
}

}  // namespace achilles::engine::engine_internal
