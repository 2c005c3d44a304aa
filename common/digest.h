// Digest and randomness helpers: SHA-256 for the plugin host (file digests
// for the allowlist) and the engine (fingerprints), HMAC-SHA256 for keyed
// pseudonyms and the audit chain, and secure random bytes for credentials.
//
// Thread-safe; no state.
#ifndef ACHILLES_COMMON_DIGEST_H_
#define ACHILLES_COMMON_DIGEST_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace achilles {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// SHA-256 fed in pieces: one pass over bytes already at hand instead of
// concatenating them first. Copying forks the state (hash a common prefix
// once, finish two ways). Not thread-safe; one per thread.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream& other);
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(absl::string_view data);
  // `data` preceded by its length, so that pieces cannot run into each
  // other ("ab"+"c" and "a"+"bc" hash differently).
  void UpdateFramed(absl::string_view data);
  // Lower-case hex digest of everything fed so far; the stream can go on.
  std::string HexDigest() const;

 private:
  struct Ctx;
  Ctx* ctx_;
};

// Lower-case hex SHA-256 of a file's bytes; NOT_FOUND or INTERNAL naming the
// path when it cannot be read.
absl::StatusOr<std::string> Sha256FileHex(const std::string& path);

// Lower-case hex HMAC-SHA256 of `data` under `key`.
std::string HmacSha256Hex(absl::string_view key, absl::string_view data);

// HMAC-SHA256 under one fixed key, set up once: the one-shot HMAC() of
// OpenSSL 3 looks up the MAC and the digest by name on every call, which
// was 13% of the server's CPU under load (an audit link, a pseudonym and
// a page token per call). Copies share the set-up state; Hex is
// thread-safe.
class HmacSha256Key {
 public:
  explicit HmacSha256Key(absl::string_view key);
  std::string Hex(absl::string_view data) const;

 private:
  struct Ctx;
  std::shared_ptr<const Ctx> ctx_;
};

// `n` bytes from the system's cryptographically secure generator; INTERNAL
// when it fails (never a weaker fallback).
absl::StatusOr<std::string> SecureRandomBytes(size_t n);

// Compares without an early exit, so timing does not reveal where two
// secrets differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace achilles

#endif  // ACHILLES_COMMON_DIGEST_H_
