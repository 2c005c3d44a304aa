// Listener: option checks, TLS set-up, bounds, routes, the serving thread.
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/net_address.h"
#include "services/ehr/ehr.h"
#include "services/ehr/internal/bounded_pool.h"
#include "services/ehr/internal/cert_reloader.h"
#include "services/ehr/internal/http_env.h"
#include "services/ehr/internal/routes.h"

namespace achilles::ehr {

struct Listener::Impl {
  ehr_internal::HttpEnv env;
  std::unique_ptr<ehr_internal::CertReloader> certs;
  std::unique_ptr<httplib::Server> http;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  bool stopped = false;
};

namespace {

struct HostPort {
  std::string host;
  int port = 0;
};

absl::StatusOr<HostPort> SplitAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  HostPort hp;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &hp.port) || hp.port < 0 ||
      hp.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--ehr_listen: '", address, "' is not host:port (port 0 = any)"));
  }
  hp.host = address.substr(0, colon);
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  return hp;
}

absl::Status CheckTransport(const ListenerOptions& o, const HostPort& hp) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file go together");
  }
  if (o.tls_cert_file.empty()) {
    if (!IsLoopbackAddress(o.listen_address)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing plaintext HTTP on ", o.listen_address,
          ", which is not loopback: give --tls_cert_file and --tls_key_file"));
    }
    if (!o.insecure_plaintext) {
      return absl::FailedPreconditionError(
          "--ehr_listen without TLS: give --tls_cert_file and --tls_key_file, "
          "or --ehr_insecure_plaintext for loopback testing");
    }
    return absl::OkStatus();
  }
  for (const std::string* f :
       {&o.tls_cert_file, &o.tls_key_file, &o.tls_client_ca_file}) {
    if (!f->empty() && access(f->c_str(), R_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("EHR listener TLS: cannot read ", *f));
    }
  }
  return absl::OkStatus();
}

// The same certificate files as gRPC, re-read when they change; TLS 1.2 or
// later; mutual TLS when a client CA is given.
std::unique_ptr<httplib::Server> MakeServer(const ListenerOptions& o,
                                            ehr_internal::CertReloader* certs) {
  if (o.tls_cert_file.empty()) return std::make_unique<httplib::Server>();
  auto setup = [o, certs](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    if (!certs->Install(&ctx)) return false;
    if (!o.tls_client_ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(&ctx, o.tls_client_ca_file.c_str(),
                                        nullptr) != 1) {
        return false;
      }
      SSL_CTX_set_verify(
          &ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    return true;
  };
  return std::make_unique<httplib::SSLServer>(setup);
}

void ApplyBounds(const ListenerOptions& o, httplib::Server& s) {
  const int threads = o.threads, queued = o.max_queued;
  s.new_task_queue = [threads, queued] {
    return new ehr_internal::BoundedPool(threads, queued);
  };
  s.set_payload_max_length(o.max_body_bytes);
  s.set_read_timeout(o.read_timeout_seconds, 0);
  s.set_write_timeout(o.write_timeout_seconds, 0);
  s.set_keep_alive_max_count(static_cast<size_t>(o.keep_alive_max_requests));
  s.set_keep_alive_timeout(o.keep_alive_seconds);
}

void AddCommon(httplib::Server& s) {
  s.Options(R"(.*)", [](const httplib::Request&, httplib::Response& res) {
    ehr_internal::AddCors(res);
    res.status = 204;
  });
  // Unmatched paths and httplib's own refusals (413 body too large) get a
  // JSON body; answers a handler already wrote are left alone.
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        ehr_internal::AddCors(res);
        ehr_internal::SendJson(
            res, res.status,
            res.status == 404 ? "{\"error\":\"no such path\"}"
            : res.status == 413
                ? "{\"error\":\"body: larger than the listener accepts\"}"
                : "{\"error\":\"request refused\"}");
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        ehr_internal::SendJson(res, 500, "{\"error\":\"internal error\"}");
      });
}

absl::StatusOr<int> Bind(httplib::Server& http, const HostPort& hp,
                         const ListenerOptions& o) {
  int port = -1;
  if (hp.port == 0) {
    port = http.bind_to_any_port(hp.host);
  } else if (http.bind_to_port(hp.host, hp.port)) {
    port = hp.port;
  }
  if (port <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", o.listen_address, " (in use or invalid?)"));
  }
  return port;
}

// The base URL EHRs call, without a trailing slash.
std::string PublicUrl(const ListenerOptions& o, const HostPort& hp, int port) {
  std::string url = o.public_url;
  if (url.empty()) {
    url = absl::StrCat(o.tls_cert_file.empty() ? "http" : "https", "://",
                       hp.host, ":", port);
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Listener>> Listener::Start(
    const ListenerOptions& options, api::Backend* backend) {
  auto hp = SplitAddress(options.listen_address);
  if (!hp.ok()) return hp.status();
  if (auto st = CheckTransport(options, *hp); !st.ok()) return st;
  std::unique_ptr<Listener> l(new Listener());
  l->impl_ = std::make_unique<Impl>();
  Impl& impl = *l->impl_;
  impl.env.backend = backend;
  impl.env.fhir_fetch.allow_http = options.outbound_allow_http;
  impl.env.fhir_fetch.ca_file = options.outbound_ca_file;
  impl.env.fhir_fetch.timeout_seconds = options.fhir_timeout_seconds;
  impl.env.fhir_fetch.max_bytes = options.fhir_max_bytes;
  if (!options.trust_file.empty()) {
    auto trust =
        ehr_internal::JwtTrust::Load(options.trust_file, impl.env.fhir_fetch);
    if (!trust.ok()) return trust.status();
    impl.env.trust = *std::move(trust);
  }
  impl.certs = std::make_unique<ehr_internal::CertReloader>(
      options.tls_cert_file, options.tls_key_file, options.tls_refresh_seconds);
  impl.http = MakeServer(options, impl.certs.get());
  if (!impl.http->is_valid()) {
    return absl::FailedPreconditionError(
        "EHR listener TLS: the certificate or key could not be loaded");
  }
  ApplyBounds(options, *impl.http);
  AddCommon(*impl.http);
  ehr_internal::AddCdsRoutes(*impl.http, impl.env);
  ehr_internal::AddFhirRoutes(*impl.http, impl.env);
  ehr_internal::AddReportRoutes(*impl.http, impl.env);
  auto port = Bind(*impl.http, *hp, options);
  if (!port.ok()) return port.status();
  impl.port = *port;
  impl.env.public_url = PublicUrl(options, *hp, impl.port);
  impl.thread = std::thread([&impl] { impl.http->listen_after_bind(); });
  Log(LogLevel::kInfo, "EHR listener (CDS Hooks, FHIR, reports) on ",
      options.listen_address, " (port ", impl.port, ", ",
      options.tls_cert_file.empty() ? "plaintext" : "TLS", ")");
  return l;
}

Listener::~Listener() { Stop(); }

int Listener::port() const { return impl_->port; }

void Listener::Stop() {
  if (impl_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->http->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace achilles::ehr
