// The metrics endpoint: cpp-httplib on its own port.
#include <httplib.h>

#include <atomic>
#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/net_address.h"
#include "common/thread_util.h"
#include "services/telemetry/telemetry.h"

namespace achilles::telemetry {
namespace {

// Runs each connection on the listening thread, one at a time: a scrape
// every few seconds needs no pool, and the kernel's accept backlog is the
// only queue, so the endpoint holds one thread and one connection at most.
class InlineQueue final : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

}  // namespace

struct MetricsEndpoint::Impl {
  httplib::Server http;
  std::thread thread;
  std::atomic<bool> ended{false};  // listen_after_bind returned.
};

absl::Status CheckEndpointOptions(const EndpointOptions& options) {
  const size_t colon = options.address.rfind(':');
  int port = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(options.address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics_address: '", options.address, "' is not host:port"));
  }
  if (!IsLoopbackAddress(options.address) && !options.allow_remote) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--metrics_address: refusing to serve metrics on ", options.address,
        ", which is not loopback: scrape through a local agent or proxy, or "
        "pass --metrics_allow_remote"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const EndpointOptions& options, metrics::Registry* registry) {
  if (absl::Status st = CheckEndpointOptions(options); !st.ok()) return st;
  const size_t colon = options.address.rfind(':');
  int port = 0;
  absl::SimpleAtoi(options.address.substr(colon + 1), &port);
  std::string host = options.address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::unique_ptr<MetricsEndpoint> ep(new MetricsEndpoint());
  ep->impl_ = std::make_unique<Impl>();
  httplib::Server& http = ep->impl_->http;
  http.new_task_queue = [] { return new InlineQueue(); };
  http.set_keep_alive_max_count(1);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.set_payload_max_length(1024);
  http.Get("/metrics",
           [registry](const httplib::Request&, httplib::Response& res) {
             res.set_content(registry->TextExposition(),
                             "text/plain; version=0.0.4; charset=utf-8");
           });
  const int bound = port == 0 ? http.bind_to_any_port(host)
                              : (http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for metrics on ", options.address,
                     " (address in use or not valid?)"));
  }
  ep->port_ = bound;
  auto thread = StartThread("the metrics endpoint", [impl = ep->impl_.get()] {
    impl->http.listen_after_bind();
    impl->ended = true;
  });
  if (!thread.ok()) return thread.status();
  ep->impl_->thread = *std::move(thread);
  return ep;
}

MetricsEndpoint::~MetricsEndpoint() {
  if (impl_ == nullptr) return;
  // stop() does nothing before the server runs, so a stop that came too
  // early would leave the thread listening and the join waiting forever.
  while (impl_->thread.joinable() && !impl_->http.is_running() &&
         !impl_->ended.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace achilles::telemetry
