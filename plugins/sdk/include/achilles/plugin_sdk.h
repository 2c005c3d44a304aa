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
// Header-only; depends only on protobuf and the shared achilles_model_proto
// library (link AchillesPluginSDK::sdk). The plugin instance is created once
// and Evaluate may run on several threads at once: keep it stateless.
#ifndef ACHILLES_PLUGIN_SDK_H_
#define ACHILLES_PLUGIN_SDK_H_

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "achilles/plugin_abi.h"
#include "achilles/v1/plugin.pb.h"

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

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual Result Evaluate(const achilles::v1::PluginRequest& request,
                          achilles::v1::PluginResponse* response) = 0;
};

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
  Recommend& Rule(std::string rule_id, std::string rule,
                  std::string threshold) {
    auto* r = rec_.mutable_rationale();
    r->set_rule_id(std::move(rule_id));
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

namespace sdk_internal {

inline void CopyError(const std::string& msg, char* out, size_t cap) {
  if (out == nullptr || cap == 0) return;
  size_t n = msg.size() < cap - 1 ? msg.size() : cap - 1;
  std::memcpy(out, msg.data(), n);
  out[n] = '\0';
}

// The body of every exported on_evaluate: nothing may throw past here.
template <typename P>
ach_type_rc Evaluate(const uint8_t* req, size_t req_size, uint8_t** out,
                     size_t* out_size, char* err, size_t err_cap) noexcept {
  try {
    *out = nullptr;
    *out_size = 0;
    static P plugin;
    achilles::v1::PluginRequest request;
    if (!request.ParseFromArray(req, static_cast<int>(req_size))) {
      CopyError("request bytes do not parse as PluginRequest", err, err_cap);
      return ACH_RC_BAD_REQUEST;
    }
    achilles::v1::PluginResponse response;
    Result r = plugin.Evaluate(request, &response);
    if (!r.ok()) {
      CopyError(r.message(), err, err_cap);
      return ACH_RC_PLUGIN_ERROR;
    }
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
  } catch (const std::exception& e) {
    CopyError(std::string("exception: ") + e.what(), err, err_cap);
  } catch (...) {
    CopyError("exception of unknown type", err, err_cap);
  }
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
        &::achilles::sdk::sdk_internal::Evaluate<PluginClass>,               \
        &::achilles::sdk::sdk_internal::Free};                               \
    return &info;                                                            \
  }

#endif  // ACHILLES_PLUGIN_SDK_H_
