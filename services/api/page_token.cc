// Page tokens as clients see them: the store's position, sealed with an
// HMAC under the server secret over that position and the query it
// continues. See api.h.
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/api/api.h"

namespace achilles::api {
namespace {

constexpr size_t kMacHexChars = 32;  // 128 bits of HMAC-SHA-256.

std::string Mac(const security::ServerSecret& secret, const std::string& scope,
                const std::string& inner) {
  return secret
      .Hmac(absl::StrCat("page-token", absl::string_view("\0", 1), scope,
                         absl::string_view("\0", 1), inner))
      .substr(0, kMacHexChars);
}

// Compares without an early exit, so timing says nothing about the MAC.
bool SameMac(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

}  // namespace

std::string SealPageToken(const security::ServerSecret& secret,
                          const std::string& scope, const std::string& inner) {
  if (inner.empty()) return "";  // No next page.
  std::string encoded;
  absl::WebSafeBase64Escape(inner, &encoded);
  return absl::StrCat(encoded, ".", Mac(secret, scope, inner));
}

absl::StatusOr<std::string> OpenPageToken(const security::ServerSecret& secret,
                                          const std::string& scope,
                                          const std::string& token) {
  if (token.empty()) return std::string();
  const size_t dot = token.rfind('.');
  std::string inner;
  if (dot == std::string::npos ||
      !absl::WebSafeBase64Unescape(token.substr(0, dot), &inner) ||
      inner.empty() ||
      !SameMac(token.substr(dot + 1), Mac(secret, scope, inner))) {
    return absl::InvalidArgumentError(
        "page_token: not a token this server handed out for this query "
        "(same patient, range and filters)");
  }
  return inner;
}

}  // namespace achilles::api
