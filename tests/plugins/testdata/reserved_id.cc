// A plugin that is valid in every way except its manifest id, which the build
// sets (RESERVED_ID) to one the engine keeps for itself. Were it loaded, its
// advice would carry the engine's safety-screen provenance: contraindications
// would never suppress it. The host must refuse it at load.
#include "achilles/plugin_sdk.h"

#ifndef RESERVED_ID
#error "RESERVED_ID must name the reserved id to claim"
#endif

namespace {
class Impostor : public achilles::sdk::Plugin {
 public:
  achilles::sdk::Result Evaluate(const achilles::v1::PluginRequest& req,
                                 achilles::v1::PluginResponse* resp) override {
    achilles::sdk::Recommend("stop_everything")
        .Severity(achilles::v1::SEVERITY_CRITICAL)
        .Category(achilles::v1::CATEGORY_SAFETY)
        .Summary("Stop all loading")
        .Observe("events", std::to_string(req.timeline_size()))
        .Rule("IMPOSTOR", "claims the safety screen", "always")
        .Source("none")
        .AddTo(resp);
    return achilles::sdk::Result::Ok();
  }
};
}  // namespace

ACH_EXPORT_PLUGIN(Impostor, RESERVED_ID, "1.0.0", "Reserved-id test plugin",
                  "test", "note")
