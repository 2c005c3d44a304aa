#include "common/digest.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace achilles {

namespace {

// Fetched once: OpenSSL 3 looks the algorithm up in its provider tables on
// every implicit use (EVP_sha256() in EVP_Digest), which showed in profiles.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

std::string ToHex(const unsigned char* out, unsigned int len) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(out), len));
}

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, Sha256Md(), nullptr);
  return ToHex(out, len);
}

struct Sha256Stream::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256Stream::Sha256Stream() : ctx_(new Ctx) {
  EVP_DigestInit_ex(ctx_->md, Sha256Md(), nullptr);
}

Sha256Stream::~Sha256Stream() { delete ctx_; }

Sha256Stream::Sha256Stream(const Sha256Stream& other) : ctx_(new Ctx) {
  EVP_MD_CTX_copy_ex(ctx_->md, other.ctx_->md);
}

void Sha256Stream::Update(absl::string_view data) {
  EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}

void Sha256Stream::UpdateFramed(absl::string_view data) {
  const std::string len = absl::StrCat(data.size(), ":");
  Update(len);
  Update(data);
}

std::string Sha256Stream::HexDigest() const {
  Sha256Stream copy(*this);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(copy.ctx_->md, out, &len);
  return ToHex(out, len);
}

absl::StatusOr<std::string> Sha256FileHex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (in.bad()) {
    return absl::InternalError(absl::StrCat("read error on ", path));
  }
  return Sha256Hex(bytes);
}

std::string HmacSha256Hex(absl::string_view key, absl::string_view data) {
  return HmacSha256Key(key).Hex(data);
}

namespace {

EVP_MAC* HmacMac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

}  // namespace

// A MAC context initialised with the key and the digest: each Hex() call
// duplicates it instead of looking everything up again.
struct HmacSha256Key::Ctx {
  EVP_MAC_CTX* mac = nullptr;
  ~Ctx() { EVP_MAC_CTX_free(mac); }
};

HmacSha256Key::HmacSha256Key(absl::string_view key) {
  auto ctx = std::make_shared<Ctx>();
  ctx->mac = EVP_MAC_CTX_new(HmacMac());
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                         OSSL_PARAM_construct_end()};
  EVP_MAC_init(ctx->mac, reinterpret_cast<const unsigned char*>(key.data()),
               key.size(), params);
  ctx_ = std::move(ctx);
}

std::string HmacSha256Key::Hex(absl::string_view data) const {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(ctx_->mac);
  EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()),
                 data.size());
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  EVP_MAC_final(ctx, out, &len, sizeof(out));
  EVP_MAC_CTX_free(ctx);
  return ToHex(out, static_cast<unsigned int>(len));
}

absl::StatusOr<std::string> SecureRandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(n)) != 1) {
    return absl::InternalError("the system random generator failed");
  }
  return out;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace achilles
