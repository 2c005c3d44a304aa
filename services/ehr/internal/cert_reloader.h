// The listener's certificate, re-read when its files change, as gRPC's
// FileWatcherCertificateProvider does for the gRPC port: a renewed
// certificate needs no restart. Checked at most every `refresh_seconds`,
// during a handshake (OpenSSL's certificate callback); a pair that does not
// load (half-written, key not matching) keeps the previous one in use.
// Thread-safety: Install's callback may run on any number of threads.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_CERT_RELOADER_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_CERT_RELOADER_H_

#include <openssl/ssl.h>

#include <ctime>
#include <mutex>
#include <string>

namespace achilles::ehr_internal {

class CertReloader {
 public:
  CertReloader(std::string cert_file, std::string key_file,
               unsigned refresh_seconds)
      : cert_file_(std::move(cert_file)),
        key_file_(std::move(key_file)),
        refresh_(refresh_seconds) {}
  ~CertReloader();
  CertReloader(const CertReloader&) = delete;
  CertReloader& operator=(const CertReloader&) = delete;

  // Loads the pair now (false when it does not load) and makes `ctx` ask
  // this object for it on every handshake. `this` must outlive `ctx`.
  bool Install(SSL_CTX* ctx);

 private:
  static int OnCertificate(SSL* ssl, void* self);
  // Reloads when the files' modification times changed; false when the
  // current pair cannot be loaded.
  bool Refresh(time_t now);
  bool Load();

  const std::string cert_file_, key_file_;
  const unsigned refresh_;
  std::mutex mu_;
  time_t checked_at_ = 0;
  time_t cert_mtime_ = 0, key_mtime_ = 0;
  X509* leaf_ = nullptr;              // Under mu_.
  STACK_OF(X509) * chain_ = nullptr;  // Under mu_.
  EVP_PKEY* key_ = nullptr;           // Under mu_.
};

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_CERT_RELOADER_H_
