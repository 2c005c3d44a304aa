// An ABI 1.1 plugin that uses the lifecycle through the SDK: Init starts a
// thread and logs through the host, Evaluate reports what Init prepared,
// Shutdown stops and joins the thread and logs that it did. Built with
// LIFECYCLE_REFUSE, Init refuses the plugin instead.
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "achilles/plugin_sdk.h"

#ifndef PLUGIN_ID
#define PLUGIN_ID "lifecycle"
#endif

namespace {

using achilles::sdk::Result;

class Lifecycle : public achilles::sdk::Plugin {
 public:
  Result Init(const achilles::sdk::Host& host) override {
    host_ = host;
#ifdef LIFECYCLE_REFUSE
    // Latin-1, not UTF-8: the host must still report it readably.
    return Result::Error(
        "licence table missing (r\xe9"
        "f)");
#endif
    ticker_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      stopped_.wait(lock, [this] { return stop_; });
    });
    ready_ = "yes";
    // A newline must not let a plugin forge a second log line.
    host_.Log(ACH_LOG_INFO, "init: ready\nERROR forged line");
    host_.Log(ACH_LOG_WARNING, "long: " + std::string(2000, 'x'));
    return Result::Ok();
  }

  Result Evaluate(const achilles::v1::PluginRequest& req,
                  achilles::v1::PluginResponse* resp) override {
    achilles::sdk::Recommend("lifecycle")
        .Info(achilles::v1::CATEGORY_EXERCISE)
        .Summary("initialised: " + ready_)
        .Observe("ticker joinable", ticker_.joinable() ? "yes" : "no")
        .Rule("TEST", "test rule", "always")
        .Source("TEST")
        .AddTo(resp);
    return Result::Ok();
  }

  void Shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    stopped_.notify_all();
    ticker_.join();
    host_.Log(ACH_LOG_INFO, "shutdown: ticker joined");
  }

 private:
  achilles::sdk::Host host_;
  std::string ready_ = "no";
  std::thread ticker_;
  std::mutex mu_;
  std::condition_variable stopped_;
  bool stop_ = false;
};

}  // namespace

ACH_EXPORT_PLUGIN(Lifecycle, PLUGIN_ID, "1.1.0", "Lifecycle test plugin",
                  "test", "note")
