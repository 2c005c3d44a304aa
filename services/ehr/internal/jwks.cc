#include "services/ehr/internal/jwks.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/ehr/internal/json_util.h"

namespace achilles::ehr_internal {
namespace {

struct Free {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

std::string Member64(const Json& key, const char* name) {
  std::string raw;
  auto text = StringMember(key, name);
  if (!text || !absl::WebSafeBase64Unescape(*text, &raw)) return "";
  return raw;
}

Owned<BIGNUM> Bn(const std::string& bytes) {
  return Owned<BIGNUM>(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                static_cast<int>(bytes.size()), nullptr));
}

// The PEM of the public key the parameters describe, or "".
std::string Pem(const char* type, OSSL_PARAM_BLD* bld) {
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) !=
          1) {
    return "";
  }
  Owned<EVP_PKEY> pkey(raw);
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : "";
}

std::string RsaPem(const Json& key) {
  Owned<BIGNUM> n = Bn(Member64(key, "n")), e = Bn(Member64(key, "e"));
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!n || !e || BN_is_zero(n.get()) || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return "";
  }
  return Pem("RSA", bld.get());
}

std::string EcPem(const Json& key) {
  const std::string x = Member64(key, "x"), y = Member64(key, "y");
  if (StringMember(key, "crv").value_or("") != "P-384" || x.size() != 48 ||
      y.size() != 48) {
    return "";
  }
  const std::string point = "\x04" + x + y;  // Uncompressed.
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  char group[] = "P-384";
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       point.data(), point.size()) != 1) {
    return "";
  }
  return Pem("EC", bld.get());
}

}  // namespace

absl::StatusOr<std::vector<IssuerKey>> KeysFromJwks(const std::string& json,
                                                    const std::string& field) {
  const Json jwks = ParseJson(json);
  const Json* keys = Member(jwks, "keys");
  if (keys == nullptr || !keys->is_array() || keys->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not a JWKS with a non-empty keys array"));
  }
  std::vector<IssuerKey> out;
  for (size_t i = 0; i < keys->size(); ++i) {
    const Json& k = (*keys)[i];
    const std::string kty = StringMember(k, "kty").value_or("");
    const std::string pem = kty == "RSA"  ? RsaPem(k)
                            : kty == "EC" ? EcPem(k)
                                          : std::string();
    if (pem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": keys[", i,
          "] is not an RSA key (n, e) or a P-384 EC key (crv, x, y)"));
    }
    out.push_back({StringMember(k, "kid").value_or(""), pem});
  }
  return out;
}

}  // namespace achilles::ehr_internal
