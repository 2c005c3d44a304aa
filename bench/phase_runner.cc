// One timed load phase (see phase_runner.h).
#include "bench/phase_runner.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/cpu_accounting.h"
#include "bench/stats.h"

namespace achilles::bench {
namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point After(Clock::time_point t, double seconds) {
  return t + std::chrono::duration_cast<Clock::duration>(
                 std::chrono::duration<double>(seconds));
}

double MicrosBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

// What the client threads of one phase share.
class Recorder {
 public:
  Recorder(const Call& call, int clients)
      : call_(call), next_(clients, 0), latency_us_(clients) {}

  // Makes client c's next call; its latency counts from `since` when
  // `record` (the warm-up records nothing).
  void CallOnce(int c, Clock::time_point since, bool record) {
    const grpc::Status st = call_(c, next_[c]++);
    const double us = MicrosBetween(since, Clock::now());
    if (!record) return;
    latency_us_[c].push_back(us);
    if (!st.ok()) Fail(st);
  }

  std::vector<double> AllLatencies() const;
  long errors() const { return errors_; }
  std::string first_error() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_error_;
  }

 private:
  void Fail(const grpc::Status& st) {
    if (errors_++ > 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    first_error_ =
        absl::StrCat("code ", st.error_code(), ": ", st.error_message());
  }

  const Call& call_;
  std::vector<long> next_;  // Per client; kept across warm-up and phase.
  std::vector<std::vector<double>> latency_us_;
  std::atomic<long> errors_{0};
  std::mutex mu_;
  std::string first_error_;
};

std::vector<double> Recorder::AllLatencies() const {
  std::vector<double> all;
  for (const auto& v : latency_us_) all.insert(all.end(), v.begin(), v.end());
  return all;
}

template <typename Body>
void OnEveryClient(int clients, const Body& body) {
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) threads.emplace_back(body, c);
  for (auto& t : threads) t.join();
}

void ClosedLoop(Recorder* r, int clients, Clock::time_point end, bool record) {
  OnEveryClient(clients, [&](int c) {
    while (Clock::now() < end) r->CallOnce(c, Clock::now(), record);
  });
}

// Client c sends its k-th call at start + (k * clients + c) / rps: the
// clients together send evenly spaced calls at `rps`.
void PacedLoop(Recorder* r, int clients, double rps, Clock::time_point start,
               Clock::time_point end) {
  OnEveryClient(clients, [&](int c) {
    for (long k = 0;; ++k) {
      const auto due = After(start, static_cast<double>(k * clients + c) / rps);
      if (due >= end) return;
      std::this_thread::sleep_until(due);
      r->CallOnce(c, due, true);
    }
  });
}

struct CpuReading {
  bool server_ok = false;
  TreeCpu server;
  double client_us = 0;
};

CpuReading ReadCpu(pid_t server_pid) {
  CpuReading r;
  if (server_pid > 0) r.server_ok = ReadTreeCpu(server_pid, &r.server);
  r.client_us = SelfCpuMicros();
  return r;
}

void Finish(const CpuReading& before, const CpuReading& after, Recorder* rec,
            PhaseResult* r) {
  const Percentiles p = Summarize(rec->AllLatencies());
  r->requests = static_cast<long>(p.n);
  r->errors = rec->errors();
  r->first_error = rec->first_error();
  r->rps = r->seconds > 0 ? static_cast<double>(p.n) / r->seconds : 0;
  r->p50_us = p.p50;
  r->p99_us = p.p99;
  r->client_cpu_us = after.client_us - before.client_us;
  if (before.server_ok && after.server_ok) {
    r->server_cpu_us = after.server.us - before.server.us;
    r->server_children = after.server.live_children;
  }
}

}  // namespace

double PhaseResult::server_cpu_per_request() const {
  return has_server_cpu() && requests > 0 ? server_cpu_us / requests : -1;
}

double PhaseResult::client_cpu_per_request() const {
  return requests > 0 ? client_cpu_us / requests : 0;
}

PhaseResult RunPhase(const PhaseOptions& o, const Call& call) {
  Recorder recorder(call, o.clients);
  if (o.warmup_seconds > 0) {
    ClosedLoop(&recorder, o.clients, After(Clock::now(), o.warmup_seconds),
               false);
  }
  PhaseResult r;
  r.offered_rps = o.paced_rps;
  const CpuReading before = ReadCpu(o.server_pid);
  const auto start = Clock::now();
  const auto end = After(start, o.seconds);
  if (o.paced_rps > 0) {
    PacedLoop(&recorder, o.clients, o.paced_rps, start, end);
  } else {
    ClosedLoop(&recorder, o.clients, end, true);
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const CpuReading after = ReadCpu(o.server_pid);
  Finish(before, after, &recorder, &r);
  return r;
}

}  // namespace achilles::bench
