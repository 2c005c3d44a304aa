// Running the enabled plugins of one evaluation: a request per plugin,
// every call in one batch (PluginSet::CallAll), and the answers stamped
// with the engine's provenance. Internal to the engine.
//
// Requests are written straight in PluginRequest's wire format, not built
// as messages: clinic, patient and as_of, then every event the plugin's
// EventKindFilter takes as a length-delimited `timeline` entry holding the
// event's stored bytes (TimelineInput::event_bytes; without them each event
// is serialized once per evaluation), then features and policy. Field
// order is protobuf's deterministic order, so the bytes equal the
// deterministic serialization of the message the engine would otherwise
// build, whenever each stored event is its own deterministic serialization
// (and parse to that message whatever the stored encoding). Plugins whose
// filters take the same events of the timeline share one request.
#ifndef ACHILLES_SERVICES_ENGINE_INTERNAL_PLUGIN_CALLS_H_
#define ACHILLES_SERVICES_ENGINE_INTERNAL_PLUGIN_CALLS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/plugin.pb.h"
#include "plugins/host/plugin_host.h"
#include "services/engine/engine.h"

namespace achilles::engine::engine_internal {

class PluginRequestWriter {
 public:
  // `in` (its timeline and event bytes) must outlive the writer.
  PluginRequestWriter(const TimelineInput& in,
                      const achilles::v1::Features& features);
  // The serialized request holding the events `filter` takes, in timeline
  // order.
  std::string Build(const plugins::EventKindFilter& filter) const;

 private:
  storage::EventSpan timeline_;
  const std::vector<absl::string_view>* events_;     // Each event's bytes.
  std::vector<std::string> serialized_;              // When `in` had none,
  std::vector<absl::string_view> serialized_views_;  // and views of them.
  std::string head_;                                 // Fields 1-3.
  std::string tail_;                                 // Fields 5-6.
};

// Where plugin answers go, stamped: whatever a plugin put in the fields
// that say who produced advice is overwritten by the engine.
struct PluginAnswers {
  std::vector<achilles::v1::Recommendation>* recommendations;
  std::vector<achilles::v1::Contraindication>* contraindications;
  std::vector<std::string>* gaps;
};

// The calls RunPlugins makes: one per plugin the policy has not disabled,
// in set order, sharing requests where filters agree on this timeline.
// Adds every plugin of the set to ev->plugins (disabled ones as DISABLED)
// and to the fingerprint input; `runs` gets the entry of each call.
std::vector<plugins::PluginCall> PlanPluginCalls(
    const plugins::PluginSet& set, const TimelineInput& in,
    const achilles::v1::Features& features, achilles::v1::Evaluation* ev,
    std::string* fingerprint, std::vector<achilles::v1::PluginRun*>* runs);

// Plans the calls, runs them in one batch with `timeout` each, and records
// every outcome: OK with the answer added to `answers`, or FAILED with the
// reason. The evaluation goes on whatever a plugin does.
void RunPlugins(const plugins::PluginSet& set, const TimelineInput& in,
                const achilles::v1::Features& features, absl::Duration timeout,
                achilles::v1::Evaluation* ev, std::string* fingerprint,
                const PluginAnswers& answers);

}  // namespace achilles::engine::engine_internal

#endif  // ACHILLES_SERVICES_ENGINE_INTERNAL_PLUGIN_CALLS_H_
