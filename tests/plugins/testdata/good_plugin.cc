// A minimal valid plugin for host tests. GOOD_ID, GOOD_VERSION and
// GOOD_EVENT_KINDS are set by the build so one source yields several
// distinct libraries (abi10_plugin.cc is its twin built against ABI 1.0). Its
// advice observes how many events the request held.
#include "achilles/plugin_sdk.h"

#ifndef GOOD_ID
#define GOOD_ID "good"
#endif
#ifndef GOOD_VERSION
#define GOOD_VERSION "1.0.0"
#endif
#ifndef GOOD_EVENT_KINDS
#define GOOD_EVENT_KINDS "note"
#endif

namespace {
class Good : public achilles::sdk::Plugin {
 public:
  achilles::sdk::Result Evaluate(const achilles::v1::PluginRequest& req,
                                 achilles::v1::PluginResponse* resp) override {
    achilles::sdk::Recommend("hello")
        .Info(achilles::v1::CATEGORY_EXERCISE)
        .Summary("version " GOOD_VERSION)
        .Observe("events", std::to_string(req.timeline_size()))
        .Rule("TEST", "test rule", "always")
        .Source("TEST")
        .Tag("exercise")
        .AddTo(resp);
    return achilles::sdk::Result::Ok();
  }
};
}  // namespace

ACH_EXPORT_PLUGIN(Good, GOOD_ID, GOOD_VERSION, "Good test plugin", "test",
                  GOOD_EVENT_KINDS)
