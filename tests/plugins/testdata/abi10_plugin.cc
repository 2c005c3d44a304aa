// A plugin built against the FROZEN ABI 1.0 header (abi_1_0/, a byte-exact
// copy of plugin_abi.h as released at 1.0, its digest recorded in
// abi_header_test.cc): the 1.1 host must load and call it unchanged, in
// both isolation modes. It behaves like good_plugin.cc (summary "version
// 1.0.0", observes how many events the request held) so the host tests can
// treat it as one more good plugin; only the struct it exports is 1.0's.
#include <cstdlib>
#include <cstring>
#include <string>

#include "achilles/plugin_abi.h"  // The frozen 1.0 copy: first on the path.
#include "achilles/recommend.h"   // Not part of the ABI.
#include "achilles/v1/plugin.pb.h"

static_assert(ACH_ABI_VERSION_MAJOR == 1 && ACH_ABI_VERSION_MINOR == 0,
              "abi10_plugin must be built against the frozen 1.0 header");
static_assert(sizeof(ach_type_plugin_info) == 4 * 4 + 7 * sizeof(void*),
              "the 1.0 info struct: four uint32 then seven pointers");

namespace {

void Copy(const char* msg, char* out, size_t cap) {
  std::strncpy(out, msg, cap - 1);
  out[cap - 1] = '\0';
}

ach_type_rc Evaluate(const uint8_t* req, size_t req_size, uint8_t** out,
                     size_t* out_size, char* err, size_t err_cap) {
  *out = nullptr;
  *out_size = 0;
  achilles::v1::PluginRequest request;
  if (!request.ParseFromArray(req, static_cast<int>(req_size))) {
    Copy("request does not parse", err, err_cap);
    return ACH_RC_BAD_REQUEST;
  }
  achilles::v1::PluginResponse response;
  achilles::sdk::Recommend("hello")
      .Info(achilles::v1::CATEGORY_EXERCISE)
      .Summary("version 1.0.0")
      .Observe("events", std::to_string(request.timeline_size()))
      .Rule("TEST", "test rule", "always")
      .Source("TEST")
      .Tag("exercise")
      .AddTo(&response);
  const std::string bytes = response.SerializeAsString();
  *out = static_cast<uint8_t*>(std::malloc(bytes.size() + 1));
  if (*out == nullptr) {
    Copy("out of memory", err, err_cap);
    return ACH_RC_PLUGIN_ERROR;
  }
  std::memcpy(*out, bytes.data(), bytes.size());
  *out_size = bytes.size();
  return ACH_RC_OK;
}

void Free(uint8_t* p) { std::free(p); }

}  // namespace

extern "C" __attribute__((visibility("default"))) const ach_type_plugin_info*
ach_on_get_info(void) {
  static const ach_type_plugin_info info = {sizeof(ach_type_plugin_info),
                                            ACH_ABI_VERSION_MAJOR,
                                            ACH_ABI_VERSION_MINOR,
                                            0,
                                            "good_abi10",
                                            "1.0.0",
                                            "Plugin built against ABI 1.0",
                                            "test",
                                            "note",
                                            &Evaluate,
                                            &Free};
  return &info;
}
