// Example clinic plugin: suggest glute and posterior-chain strength work for
// patients who are running (E-POSTERIOR: S4, S0).
//
// Copy this folder, rename the plugin (PLUGIN_NAME at the top of
// CMakeLists.txt: target, file and id), and change Evaluate(). Everything the
// server knows about the patient arrives in the request: the timeline up to
// as_of, the derived features (see achilles/v1/evaluation.pb.h, message
// Features) and the clinic's policy.
#include "achilles/plugin_sdk.h"

namespace {

namespace v1 = achilles::v1;
using achilles::sdk::Recommend;
using achilles::sdk::Result;

class PosteriorChain : public achilles::sdk::Plugin {
 public:
  Result Evaluate(const v1::PluginRequest& req,
                  v1::PluginResponse* resp) override {
    const v1::Features& f = req.features();
    // Leave red flags to the built-in safety screen.
    if (achilles::sdk::RedFlags(f) != achilles::sdk::RedFlagVerdict::kClear) {
      return Result::Ok();
    }
    // Only for patients whose latest run is inside the clinic's recency
    // window: older runs say nothing about today.
    if (!f.days_since_last_run().present() || f.recency().runs_stale()) {
      return Result::Ok();
    }
    const auto& run = f.days_since_last_run();
    Recommend("glute_work")
        .Info(v1::CATEGORY_EXERCISE)
        .Summary("Add glute and posterior-chain strength work")
        .Detail(
            "Strong hips and hamstrings share the load of running with "
            "the calf and Achilles tendon.")
        .Observe("days since last run",
                 std::to_string(static_cast<int>(run.value())),
                 achilles::sdk::Ids(run))
        .Rule("E-POSTERIOR", "Runners: add glute and posterior-chain work",
              "latest run inside the recency window")
        .Sources({"S4", "S0"})
        .Tag("exercise")
        .AddTo(resp);
    return Result::Ok();
  }
};

}  // namespace

// PLUGIN_ID comes from PLUGIN_NAME in CMakeLists.txt.
ACH_EXPORT_PLUGIN(PosteriorChain, PLUGIN_ID, "1.0.0",
                  "Glute and posterior-chain work for runners",
                  "posterior_chain", "run_session")
