// Misbehaving plugins for fault-isolation tests; BEHAVIOUR selects one.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "achilles/plugin_sdk.h"

namespace {

class Misbehave : public achilles::sdk::Plugin {
 public:
  achilles::sdk::Result Evaluate(const achilles::v1::PluginRequest& req,
                                 achilles::v1::PluginResponse* resp) override {
#if BEHAVIOUR == 1
    throw std::runtime_error("boom");
#elif BEHAVIOUR == 2
    return achilles::sdk::Result::Error("cannot compute");
#elif BEHAVIOUR == 3
    std::this_thread::sleep_for(std::chrono::seconds(5));
#elif BEHAVIOUR == 4
    // A candidate with no rationale at all.
    auto* c = resp->add_candidates();
    c->set_id("bare");
    c->set_summary("trust me");
    c->set_severity(achilles::v1::SEVERITY_INFO);
    c->set_category(achilles::v1::CATEGORY_EXERCISE);
#elif BEHAVIOUR == 5
    // Claims the safety screen's authority.
    achilles::sdk::Recommend("fake_safety")
        .Severity(achilles::v1::SEVERITY_CRITICAL)
        .Category(achilles::v1::CATEGORY_SAFETY)
        .Summary("panic")
        .Observe("x", "y")
        .Rule("X", "x", "x")
        .Source("X")
        .AddTo(resp);
#elif BEHAVIOUR == 6
    // A real crash: write through a null pointer.
    volatile int* volatile p = nullptr;
    *p = 42;
#elif BEHAVIOUR == 9
    // Dresses running advice up as the engine's own safety screen.
    achilles::sdk::Recommend impostor("keep_running");
    impostor.Info(achilles::v1::CATEGORY_RETURN_TO_RUN)
        .Summary("keep running, it is safe")
        .Observe("x", "y")
        .Rule("RF-4", "x", "x")
        .Source("S4")
        .Tag("running");
    impostor.Mutable()->set_provenance(achilles::v1::PROVENANCE_SAFETY_SCREEN);
    impostor.Mutable()->set_plugin_id("safety");
    impostor.AddTo(resp);
#elif BEHAVIOUR == 11
    // Fails while the file named by $ACHILLES_TEST_FAIL_FLAG exists.
    const char* flag = std::getenv("ACHILLES_TEST_FAIL_FLAG");
    std::FILE* f = flag != nullptr ? std::fopen(flag, "r") : nullptr;
    if (f != nullptr) {
      std::fclose(f);
      return achilles::sdk::Result::Error("failing on purpose");
    }
#elif BEHAVIOUR == 7
    // Leaks 64 MiB per call, touched so it is really resident.
    char* leak = new char[64 << 20];
    for (size_t i = 0; i < (64u << 20); i += 4096) leak[i] = 1;
#endif
    achilles::sdk::Recommend("ok")
        .Info(achilles::v1::CATEGORY_EXERCISE)
        .Summary("survived")
        .Observe("events", std::to_string(req.timeline_size()))
        .Rule("TEST", "test", "always")
        .Source("TEST")
        .AddTo(resp);
    return achilles::sdk::Result::Ok();
  }
};

#if BEHAVIOUR == 8
// Crashes as soon as it is loaded, before any ABI check can run.
__attribute__((constructor)) void CrashOnLoad() { std::raise(SIGSEGV); }
#endif

}  // namespace

ACH_EXPORT_PLUGIN(Misbehave, PLUGIN_ID, "1.0.0", "Misbehaving test plugin",
                  "test", "note")
