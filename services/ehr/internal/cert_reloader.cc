#include "services/ehr/internal/cert_reloader.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>

namespace achilles::ehr_internal {
namespace {

time_t MTime(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_mtime : 0;
}

void FreeChain(STACK_OF(X509) * chain) {
  if (chain != nullptr) sk_X509_pop_free(chain, X509_free);
}

}  // namespace

CertReloader::~CertReloader() {
  X509_free(leaf_);
  FreeChain(chain_);
  EVP_PKEY_free(key_);
}

bool CertReloader::Load() {
  FILE* cf = std::fopen(cert_file_.c_str(), "r");
  FILE* kf = std::fopen(key_file_.c_str(), "r");
  X509* leaf = cf ? PEM_read_X509(cf, nullptr, nullptr, nullptr) : nullptr;
  STACK_OF(X509)* chain = sk_X509_new_null();
  while (X509* extra =
             cf ? PEM_read_X509(cf, nullptr, nullptr, nullptr) : nullptr) {
    sk_X509_push(chain, extra);
  }
  EVP_PKEY* key =
      kf ? PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr) : nullptr;
  if (cf != nullptr) std::fclose(cf);
  if (kf != nullptr) std::fclose(kf);
  if (leaf == nullptr || key == nullptr ||
      X509_check_private_key(leaf, key) != 1) {
    X509_free(leaf);
    FreeChain(chain);
    EVP_PKEY_free(key);
    return false;
  }
  X509_free(leaf_);
  FreeChain(chain_);
  EVP_PKEY_free(key_);
  leaf_ = leaf;
  chain_ = chain;
  key_ = key;
  return true;
}

bool CertReloader::Refresh(time_t now) {
  if (leaf_ != nullptr && now - checked_at_ < static_cast<time_t>(refresh_)) {
    return true;
  }
  checked_at_ = now;
  const time_t cm = MTime(cert_file_), km = MTime(key_file_);
  if (leaf_ != nullptr && cm == cert_mtime_ && km == key_mtime_) return true;
  if (!Load()) return leaf_ != nullptr;  // Keep the previous pair.
  cert_mtime_ = cm;
  key_mtime_ = km;
  return true;
}

bool CertReloader::Install(SSL_CTX* ctx) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Refresh(std::time(nullptr))) return false;
  }
  SSL_CTX_set_cert_cb(ctx, &CertReloader::OnCertificate, this);
  return true;
}

int CertReloader::OnCertificate(SSL* ssl, void* arg) {
  auto* self = static_cast<CertReloader*>(arg);
  std::lock_guard<std::mutex> lock(self->mu_);
  if (!self->Refresh(std::time(nullptr))) return 0;
  // override = 1: replace whatever the SSL object inherited.
  return SSL_use_cert_and_key(ssl, self->leaf_, self->key_, self->chain_, 1);
}

}  // namespace achilles::ehr_internal
