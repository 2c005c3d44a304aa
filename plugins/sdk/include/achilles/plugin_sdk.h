// C++ SDK for achilles-cds protocol plugins: write a class, export it with one
// macro, and the SDK handles the C ABI (plugin_abi.h), protobuf parsing and
// serialization, buffer ownership, and exceptions.
//
//   class MyPlugin : public achilles::sdk::Plugin {
//    public:
//     achilles::sdk::Result Evaluate(const achilles::v1::PluginRequest& req,
//                                    achilles::v1::PluginResponse* resp)
//         override {
//       achilles::sdk::Recommend("my_rule")
//           .Info(achilles::v1::CATEGORY_EXERCISE)
//           .Summary("...")
//           .Observe("pain during run", "2/10", {"ev-1"})
//           .Rule("D4", "repeat each level 2-3 sessions", "pain <= 3/10")
//           .Source("S1")
//           .AddTo(resp);
//       return achilles::sdk::Result::Ok();
//     }
//   };
//   ACH_EXPORT_PLUGIN(MyPlugin, "my_plugin", "1.0.0", "My protocol",
//                     "my_protocol", "run_session,pain_report")
//
// The last argument lists the event kinds Evaluate reads from
// request.timeline() (the field names of achilles.v1.Event's `kind`): the
// timeline holds only events of those kinds, and a name that is no kind
// refuses the plugin at load. "" or "*" receives every event. Features are
// computed from the whole timeline whatever the plugin declares.
//
// The request and response live on a protobuf arena for the call: keep no
// pointer into them past Evaluate.
//
// Lifecycle (ABI 1.1, plugin_abi.h "Lifecycle"): the SDK creates the plugin
// instance in on_init and destroys it in on_shutdown. Override Init to
// prepare (load tables, start a thread; a Result::Error refuses the plugin
// with its message) and Shutdown to stop: join every thread you started
// there. Shutdown runs after a failed Init too, so it must cope with a
// half-done Init. `host` logs through the server's log, prefixed with the
// plugin id: never log a patient identifier or name.
//
//   Result Init(const achilles::sdk::Host& host) override {
//     host_ = host;
//     host_.Log(ACH_LOG_INFO, "tables loaded");
//     return Result::Ok();
//   }
//
// Header-only; depends only on protobuf and the shared achilles_model_proto
// library (link AchillesPluginSDK::sdk). The plugin instance is created once
// and Evaluate may run on several threads at once: keep it stateless.
#ifndef ACHILLES_PLUGIN_SDK_H_
#define ACHILLES_PLUGIN_SDK_H_

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "achilles/features.h"
#include "achilles/plugin_abi.h"
#include "achilles/recommend.h"
#include "achilles/v1/plugin.pb.h"
#include "google/protobuf/arena.h"

namespace achilles::sdk {

// Outcome of Plugin::Evaluate. An error is shown to the clinician as
// "plugin <id> failed: <message>"; the rest of the evaluation still runs.
class Result {
 public:
  static Result Ok() { return Result(true, ""); }
  static Result Error(std::string message) {
    return Result(false, std::move(message));
  }
  bool ok() const { return ok_; }
  const std::string& message() const { return message_; }

 private:
  Result(bool ok, std::string message)
      : ok_(ok), message_(std::move(message)) {}
  bool ok_;
  std::string message_;
};

// The server's side, as on_init hands it over. A value: copy it freely;
// valid until Shutdown returns. Log is safe from any thread.
class Host {
 public:
  Host() = default;
  explicit Host(const ach_type_host_callbacks* callbacks)
      : callbacks_(callbacks) {}
  // One line in the server's log (level ACH_LOG_DEBUG..ACH_LOG_ERROR). Never
  // a patient identifier or name.
  void Log(int32_t level, const std::string& message) const {
    if (callbacks_ == nullptr || callbacks_->log == nullptr) return;
    callbacks_->log(callbacks_->host_ptr, level, message.data(),
                    message.size());
  }

 private:
  const ach_type_host_callbacks* callbacks_ = nullptr;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  // Called once before any Evaluate (in the server on its loader thread, in
  // an isolated worker on its main thread; plugin_abi.h "Lifecycle"). An
  // error refuses the plugin with its message.
  virtual Result Init(const Host& host) { return Result::Ok(); }
  virtual Result Evaluate(const achilles::v1::PluginRequest& request,
                          achilles::v1::PluginResponse* response) = 0;
  // Called once after the last Evaluate: stop and join your threads here.
  virtual void Shutdown() {}
};

namespace sdk_internal {

inline void CopyError(const std::string& msg, char* out, size_t cap) {
  if (out == nullptr || cap == 0) return;
  size_t n = msg.size() < cap - 1 ? msg.size() : cap - 1;
  std::memcpy(out, msg.data(), n);
  out[n] = '\0';
}

// Request and response live on one arena per call: decoding a timeline
// then costs a few block allocations instead of one per message. The
// first block is sized for a typical request (about a hundred events).
inline google::protobuf::ArenaOptions CallArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 1 << 20;
  return options;
}

// Copies `response` into a buffer the host hands back to Free.
inline ach_type_rc Serialize(const achilles::v1::PluginResponse& response,
                             uint8_t** out, size_t* out_size, char* err,
                             size_t err_cap) {
  const size_t n = response.ByteSizeLong();
  auto* buf = static_cast<uint8_t*>(std::malloc(n == 0 ? 1 : n));
  if (buf == nullptr) {
    CopyError("out of memory", err, err_cap);
    return ACH_RC_PLUGIN_ERROR;
  }
  if (!response.SerializeToArray(buf, static_cast<int>(n))) {
    std::free(buf);
    CopyError("response did not serialize", err, err_cap);
    return ACH_RC_PLUGIN_ERROR;
  }
  *out = buf;
  *out_size = n;
  return ACH_RC_OK;
}

// Decodes the request, runs the plugin and serializes its answer.
inline ach_type_rc Run(Plugin* plugin, const uint8_t* req, size_t req_size,
                       uint8_t** out, size_t* out_size, char* err,
                       size_t err_cap) {
  google::protobuf::Arena arena(CallArenaOptions());
  auto* request =
      google::protobuf::Arena::CreateMessage<achilles::v1::PluginRequest>(
          &arena);
  if (!request->ParseFromArray(req, static_cast<int>(req_size))) {
    CopyError("request bytes do not parse as PluginRequest", err, err_cap);
    return ACH_RC_BAD_REQUEST;
  }
  auto* response =
      google::protobuf::Arena::CreateMessage<achilles::v1::PluginResponse>(
          &arena);
  Result r = plugin->Evaluate(*request, response);
  if (!r.ok()) {
    CopyError(r.message(), err, err_cap);
    return ACH_RC_PLUGIN_ERROR;
  }
  return Serialize(*response, out, out_size, err, err_cap);
}

// The body of every exported on_evaluate_with_context: nothing may throw
// past here. `context` is the instance Init made.
inline ach_type_rc EvaluateWith(void* context, const uint8_t* req,
                                size_t req_size, uint8_t** out,
                                size_t* out_size, char* err,
                                size_t err_cap) noexcept {
  try {
    *out = nullptr;
    *out_size = 0;
    if (context == nullptr) {
      CopyError("called without on_init", err, err_cap);
      return ACH_RC_PLUGIN_ERROR;
    }
    return Run(static_cast<Plugin*>(context), req, req_size, out, out_size, err,
               err_cap);
  } catch (const std::exception& e) {
    CopyError(std::string("exception: ") + e.what(), err, err_cap);
  } catch (...) {
    CopyError("exception of unknown type", err, err_cap);
  }
  return ACH_RC_PLUGIN_ERROR;
}

// on_shutdown: the instance's Shutdown, then the instance goes.
inline void Shutdown(void* context) noexcept {
  auto* plugin = static_cast<Plugin*>(context);
  try {
    if (plugin != nullptr) plugin->Shutdown();
  } catch (...) {
    // Nothing can be reported any more; the instance still goes.
  }
  delete plugin;
}

// on_init: makes the instance, runs its Init, hands it over as the context.
template <typename P>
ach_type_rc Init(const ach_type_host_callbacks* host, void** context, char* err,
                 size_t err_cap) noexcept {
  Plugin* plugin = nullptr;
  try {
    plugin = new P();
    Result r = plugin->Init(Host(host));
    if (r.ok()) {
      *context = plugin;
      return ACH_RC_OK;
    }
    CopyError(r.message(), err, err_cap);
  } catch (const std::exception& e) {
    CopyError(std::string("exception in Init: ") + e.what(), err, err_cap);
  } catch (...) {
    CopyError("exception of unknown type in Init", err, err_cap);
  }
  // A failed Init may have started what Shutdown stops (a thread still
  // joinable when its object dies would abort the process), so the instance
  // is shut down before it goes, as after a successful Init.
  Shutdown(plugin);
  return ACH_RC_PLUGIN_ERROR;
}

inline void Free(uint8_t* p) noexcept { std::free(p); }

}  // namespace sdk_internal
}  // namespace achilles::sdk

// Exports PluginClass as an achilles-cds plugin. Use once per shared object.
#define ACH_EXPORT_PLUGIN(PluginClass, id, version, display_name, protocols, \
                          event_kinds)                                       \
  extern "C" __attribute__((visibility("default")))                          \
  const ach_type_plugin_info*                                                \
  ach_on_get_info(void) {                                                    \
    static const ach_type_plugin_info info = {                               \
        sizeof(ach_type_plugin_info),                                        \
        ACH_ABI_VERSION_MAJOR,                                               \
        ACH_ABI_VERSION_MINOR,                                               \
        0,                                                                   \
        id,                                                                  \
        version,                                                             \
        display_name,                                                        \
        protocols,                                                           \
        event_kinds,                                                         \
        nullptr,                                                             \
        &::achilles::sdk::sdk_internal::Free,                                \
        &::achilles::sdk::sdk_internal::Init<PluginClass>,                   \
        &::achilles::sdk::sdk_internal::Shutdown,                            \
        &::achilles::sdk::sdk_internal::EvaluateWith};                       \
    return &info;                                                            \
  }

#endif  // ACHILLES_PLUGIN_SDK_H_
