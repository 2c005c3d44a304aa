#include "plugins/host/internal/info_check.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/utf8.h"

namespace achilles::plugins_internal {
namespace {

bool ValidPluginId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' ||
          c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

// Ids the engine speaks for itself: "safety" marks the built-in safety
// screen's advice, which contraindications never suppress; the rest are kept
// back for engine namespaces. A plugin must never be able to pass as the
// engine.
bool ReservedPluginId(absl::string_view id) {
  return id == "safety" || id == "engine" || id == "data" ||
         absl::StartsWith(id, "achilles");
}

// "1.2.3", digits only.
bool ValidSemver(absl::string_view v) {
  std::vector<absl::string_view> parts = absl::StrSplit(v, '.');
  if (parts.size() != 3) return false;
  for (auto p : parts) {
    if (p.empty() || p.size() > 9) return false;
    for (char c : p) {
      if (!absl::ascii_isdigit(c)) return false;
    }
  }
  return true;
}

// Manifest text reaches ListPlugins, a proto3 string: it must be UTF-8.
bool SafeString(const char* s, size_t max_len) {
  if (s == nullptr) return false;
  const size_t n = strnlen(s, max_len + 1);
  return n > 0 && n <= max_len && IsValidUtf8(absl::string_view(s, n));
}

std::vector<std::string> SplitList(const char* s) {
  std::vector<std::string> out;
  if (s == nullptr) return out;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

absl::Status Refuse(std::string why) {
  return absl::FailedPreconditionError(std::move(why));
}

// Bytes of the info struct that ABI 1.<minor> defines.
size_t SizeForMinor(uint32_t minor) {
  return minor == 0 ? ACH_INFO_SIZE_1_0 : sizeof(ach_type_plugin_info);
}

absl::Status CheckVersion(const ach_type_plugin_info& info) {
  if (info.abi_major != ACH_ABI_VERSION_MAJOR) {
    return Refuse(absl::StrCat(
        "built for ABI ", info.abi_major, ".", info.abi_minor,
        ", server speaks ABI ", ACH_ABI_VERSION_MAJOR, ".",
        ACH_ABI_VERSION_MINOR, ": major versions differ; rebuild the plugin"));
  }
  if (info.abi_minor > ACH_ABI_VERSION_MINOR) {
    return Refuse(absl::StrCat("built for ABI ", info.abi_major, ".",
                               info.abi_minor, ", newer than the server's ",
                               ACH_ABI_VERSION_MAJOR, ".",
                               ACH_ABI_VERSION_MINOR, "; upgrade the server"));
  }
  return absl::OkStatus();
}

// Additive evolution: any size from 1.0's up is fine, and what lies past
// the plugin's size (or past what its minor defines) is absent. Only the
// fields that fit are copied, so a short struct is never read past its end.
absl::Status CopyLayout(const ach_type_plugin_info* info,
                        ach_type_plugin_info* entry) {
  if (info->struct_size < ACH_INFO_SIZE_1_0) {
    return Refuse(absl::StrCat("info struct size ", info->struct_size,
                               " is smaller than ABI 1.0's ",
                               ACH_INFO_SIZE_1_0));
  }
  *entry = ach_type_plugin_info{};
  // Whole pointer-sized fields only: a size that ends inside a field (say
  // 1.0's plus 20) leaves that field absent rather than half copied.
  size_t size =
      std::min<size_t>(info->struct_size, SizeForMinor(info->abi_minor));
  size -= (size - ACH_INFO_SIZE_1_0) % sizeof(void*);
  std::memcpy(entry, info, size);
  if (entry->reserved != 0) {
    return Refuse("info struct: reserved must be zero");
  }
  return absl::OkStatus();
}

absl::Status CheckIdentity(const ach_type_plugin_info& info,
                           plugins::PluginManifest* out) {
  if (!SafeString(info.id, 64) || !ValidPluginId(info.id)) {
    return Refuse("manifest: id must be 1-64 chars of [a-z0-9_.-]");
  }
  if (ReservedPluginId(info.id)) {
    return Refuse(absl::StrCat(
        "manifest: id '", info.id,
        "' is reserved for the engine (safety, engine, data and achilles* "
        "are taken); choose another id"));
  }
  out->id = info.id;
  if (!SafeString(info.version, 32) || !ValidSemver(info.version)) {
    return Refuse("manifest: version must be MAJOR.MINOR.PATCH");
  }
  out->version = info.version;
  if (!SafeString(info.display_name, 128)) {
    return Refuse("manifest: display_name must be 1-128 bytes of UTF-8");
  }
  out->display_name = info.display_name;
  return absl::OkStatus();
}

absl::Status CheckLists(const ach_type_plugin_info& info,
                        plugins::PluginManifest* out) {
  if (!SafeString(info.protocols, 512)) {
    return Refuse("manifest: protocols must list at least one protocol");
  }
  out->protocols = SplitList(info.protocols);
  if (info.event_kinds != nullptr && !SafeString(info.event_kinds, 512) &&
      info.event_kinds[0] != '\0') {
    return Refuse("manifest: event_kinds longer than 512 chars");
  }
  out->event_kinds = SplitList(info.event_kinds);
  // From ABI 1.1 a plugin receives only the kinds it names: a misspelt one
  // would silently starve it of those events. 1.0 plugins get every event.
  if (info.abi_minor >= 1) {
    auto filter = plugins::EventKindFilter::FromNames(out->event_kinds);
    if (!filter.ok()) {
      return Refuse(absl::StrCat("manifest: ", filter.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEntryPoints(const ach_type_plugin_info& info) {
  if (info.on_free == nullptr || (info.on_evaluate == nullptr &&
                                  info.on_evaluate_with_context == nullptr)) {
    return Refuse(
        "manifest: on_free and on_evaluate (or, since ABI 1.1, "
        "on_evaluate_with_context) must be set");
  }
  if ((info.on_init == nullptr) != (info.on_shutdown == nullptr)) {
    return Refuse("manifest: on_init and on_shutdown come as a pair");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckInfo(const ach_type_plugin_info* info,
                       plugins::PluginManifest* out,
                       ach_type_plugin_info* entry) {
  if (info == nullptr) return Refuse("entry symbol returned no info struct");
  // struct_size, abi_major and abi_minor lead every version's struct.
  out->abi_version = absl::StrCat(info->abi_major, ".", info->abi_minor);
  if (absl::Status st = CheckVersion(*info); !st.ok()) return st;
  ach_type_plugin_info local;
  if (entry == nullptr) entry = &local;
  if (absl::Status st = CopyLayout(info, entry); !st.ok()) return st;
  if (absl::Status st = CheckIdentity(*entry, out); !st.ok()) return st;
  if (absl::Status st = CheckLists(*entry, out); !st.ok()) return st;
  return CheckEntryPoints(*entry);
}

}  // namespace achilles::plugins_internal
