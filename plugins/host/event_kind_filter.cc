// EventKindFilter (plugin_host.h): kind names to bits of Event's `kind`
// oneof, by field number.
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "plugins/host/plugin_host.h"

namespace achilles::plugins {
namespace {

constexpr int kHighKindBit = 63;

// Bit of the kind with field number `number`.
uint64_t KindBit(int number) {
  return uint64_t{1} << (number < kHighKindBit ? number : kHighKindBit);
}

// Every kind name, from the generated descriptor: a kind added to
// events.proto is known here without a change.
const std::map<std::string, int>& KindNumbers() {
  static const auto* kinds = [] {
    auto* m = new std::map<std::string, int>();
    const google::protobuf::OneofDescriptor* oneof =
        v1::Event::descriptor()->FindOneofByName("kind");
    for (int i = 0; i < oneof->field_count(); ++i) {
      (*m)[oneof->field(i)->name()] = oneof->field(i)->number();
    }
    return m;
  }();
  return *kinds;
}

}  // namespace

uint64_t EventKindFilter::Bit(const v1::Event& event) {
  return KindBit(static_cast<int>(event.kind_case()));
}

absl::StatusOr<EventKindFilter> EventKindFilter::FromNames(
    const std::vector<std::string>& kinds) {
  if (kinds.empty()) return All();
  uint64_t bits = 0;
  for (const std::string& name : kinds) {
    if (name == "*") return All();
    auto it = KindNumbers().find(name);
    if (it == KindNumbers().end()) {
      std::vector<std::string> known;
      for (const auto& [k, number] : KindNumbers()) known.push_back(k);
      return absl::InvalidArgumentError(
          absl::StrCat("event kind '", name, "' is not one of ",
                       absl::StrJoin(known, ", "), " or *"));
    }
    bits |= KindBit(it->second);
  }
  return EventKindFilter(bits);
}

EventKindFilter EventKindFilter::For(const PluginManifest& manifest) {
  // ABI 1.0 never filtered: its plugins keep whatever they always had.
  if (manifest.abi_version == "1.0") return All();
  auto filter = FromNames(manifest.event_kinds);
  return filter.ok() ? *filter : All();
}

}  // namespace achilles::plugins
