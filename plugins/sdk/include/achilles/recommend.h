// Building recommendations and contraindications: the one builder shared
// by plugins (through plugin_sdk.h), the engine's built-in rules and the
// harness, so every piece of advice is made the same way.
//
//   achilles::sdk::Recommend("my_rule")
//       .Info(achilles::v1::CATEGORY_EXERCISE)
//       .Summary("...")
//       .Observe("pain during run", "2/10", features.last_pain_during())
//       .Rule("D4", "repeat each level 2-3 sessions", "pain <= 3/10")
//       .Source("S1")
//       .AddTo(&response);
//
// Header-only; depends only on the generated achilles_model_proto messages.
// Builders are plain values: not shared between threads.
#ifndef ACHILLES_RECOMMEND_H_
#define ACHILLES_RECOMMEND_H_

#include <ctime>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "achilles/v1/plugin.pb.h"

namespace achilles::sdk {

// The events behind a derived feature, for an observation.
inline std::vector<std::string> Ids(const achilles::v1::Feature& f) {
  return {f.event_ids().begin(), f.event_ids().end()};
}

// The same for a list of event ids in the features (finding_event_ids,
// back_to_back_run_event_ids, ...).
inline std::vector<std::string> Ids(
    const google::protobuf::RepeatedPtrField<std::string>& event_ids) {
  return {event_ids.begin(), event_ids.end()};
}

// "2026-11-28" for a protobuf timestamp, for rationale text.
inline std::string Day(const google::protobuf::Timestamp& ts) {
  std::time_t t = static_cast<std::time_t>(ts.seconds());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// Fluent builder for one candidate recommendation. The host rejects a
// candidate without rule id, observation or source, so Build() callers must
// set all three.
class Recommend {
 public:
  explicit Recommend(std::string rule_name) {
    rec_.set_id(std::move(rule_name));
    rec_.set_confidence(1.0);
  }
  Recommend& Severity(achilles::v1::Severity s) {
    rec_.set_severity(s);
    return *this;
  }
  Recommend& Category(achilles::v1::Category c) {
    rec_.set_category(c);
    return *this;
  }
  Recommend& Info(achilles::v1::Category c) {
    return Severity(achilles::v1::SEVERITY_INFO).Category(c);
  }
  Recommend& Warning(achilles::v1::Category c) {
    return Severity(achilles::v1::SEVERITY_WARNING).Category(c);
  }
  Recommend& Summary(std::string s) {
    rec_.set_summary(std::move(s));
    return *this;
  }
  Recommend& Detail(std::string s) {
    rec_.set_detail(std::move(s));
    return *this;
  }
  Recommend& Priority(int p) {
    rec_.set_priority(p);
    return *this;
  }
  Recommend& Confidence(double c) {
    rec_.set_confidence(c);
    return *this;
  }
  Recommend& Tag(std::string tag) {
    rec_.add_tags(std::move(tag));
    return *this;
  }
  Recommend& Observe(std::string label, std::string value,
                     std::vector<std::string> event_ids = {},
                     const google::protobuf::Timestamp* at = nullptr) {
    auto* o = rec_.mutable_rationale()->add_observed();
    o->set_label(std::move(label));
    o->set_value(std::move(value));
    for (auto& id : event_ids) o->add_event_ids(std::move(id));
    if (at != nullptr) *o->mutable_observed_at() = *at;
    return *this;
  }
  // An observation backed by a derived feature: its events and time.
  Recommend& Observe(std::string label, std::string value,
                     const achilles::v1::Feature& feature) {
    return Observe(std::move(label), std::move(value), Ids(feature),
                   feature.has_at() ? &feature.at() : nullptr);
  }
  Recommend& Rule(std::string rule_id, std::string rule,
                  std::string threshold) {
    rec_.mutable_rationale()->set_rule_id(std::move(rule_id));
    return Explain(std::move(rule), std::move(threshold));
  }
  // The rule in plain words and its threshold, when the rule id is set.
  Recommend& Explain(std::string rule, std::string threshold) {
    auto* r = rec_.mutable_rationale();
    r->set_rule(std::move(rule));
    r->set_threshold(std::move(threshold));
    return *this;
  }
  Recommend& Source(std::string key) {
    rec_.mutable_rationale()->add_sources(std::move(key));
    return *this;
  }
  Recommend& Sources(std::initializer_list<const char*> keys) {
    for (const char* k : keys) Source(k);
    return *this;
  }
  Recommend& Policy(std::string policy) {
    rec_.mutable_rationale()->set_policy(std::move(policy));
    return *this;
  }
  achilles::v1::Prescription* Prescription() {
    return rec_.mutable_prescription();
  }
  const achilles::v1::Recommendation& Build() const { return rec_; }
  achilles::v1::Recommendation* Mutable() { return &rec_; }
  void AddTo(achilles::v1::PluginResponse* response) const {
    *response->add_candidates() = rec_;
  }

 private:
  achilles::v1::Recommendation rec_;
};

// Adds a contraindication: the engine suppresses every recommendation, from
// any plugin, that carries `blocked_tag`.
inline void Contraindicate(achilles::v1::PluginResponse* response,
                           std::string id, std::string blocked_tag,
                           std::string reason, std::string rule_id,
                           std::initializer_list<const char*> sources) {
  auto* c = response->add_contraindications();
  c->set_id(std::move(id));
  c->set_blocked_tag(std::move(blocked_tag));
  c->set_reason(std::move(reason));
  c->set_rule_id(std::move(rule_id));
  for (const char* s : sources) c->add_sources(s);
}

}  // namespace achilles::sdk

#endif  // ACHILLES_RECOMMEND_H_
