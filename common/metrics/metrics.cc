#include "common/metrics/metrics.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/metrics/internal/text_format.h"

namespace achilles::metrics {

using metrics_internal::TextWriter;

void Gauge::Add(double delta) {
  double old = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(old, old + delta,
                                       std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  // Buckets hold their own count; Read() accumulates them.
  const size_t i =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + value,
                                     std::memory_order_relaxed)) {
  }
}

Histogram::Reading Histogram::Read() const {
  Reading r;
  r.cumulative.reserve(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    r.cumulative.push_back(running);
  }
  r.count = running;
  r.sum = sum_.load(std::memory_order_relaxed);
  return r;
}

const std::vector<double>& LatencyBuckets() {
  static const auto* kBuckets =
      new std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return *kBuckets;
}

Registry& Registry::Default() {
  static auto* registry = new Registry();  // Never destroyed: see header.
  return *registry;
}

namespace {
template <typename T>
Family<T>& GetOrAdd(std::map<std::string, std::unique_ptr<Family<T>>>* families,
                    std::unique_ptr<Family<T>> fresh) {
  auto& slot = (*families)[fresh->name()];
  if (slot == nullptr) slot = std::move(fresh);
  return *slot;
}
}  // namespace

Family<Counter>& Registry::CounterFamily(const std::string& name,
                                         const std::string& help,
                                         std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  return GetOrAdd(&counters_,
                  std::unique_ptr<Family<Counter>>(
                      new Family<Counter>(name, help, std::move(labels), {})));
}

Family<Gauge>& Registry::GaugeFamily(const std::string& name,
                                     const std::string& help,
                                     std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  return GetOrAdd(&gauges_, std::unique_ptr<Family<Gauge>>(new Family<Gauge>(
                                name, help, std::move(labels), {})));
}

Family<Histogram>& Registry::HistogramFamily(const std::string& name,
                                             const std::string& help,
                                             std::vector<std::string> labels,
                                             std::vector<double> bounds) {
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  absl::MutexLock lock(&mu_);
  return GetOrAdd(&histograms_,
                  std::unique_ptr<Family<Histogram>>(new Family<Histogram>(
                      name, help, std::move(labels), std::move(bounds))));
}

uint64_t Registry::AddCollector(const std::string& name,
                                const std::string& help, Type type,
                                std::vector<std::string> labels,
                                CollectFn collect) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_collector_++;
  collectors_.emplace(
      id, Collector{name, help, type, std::move(labels), std::move(collect)});
  return id;
}

void Registry::RemoveCollector(uint64_t id) {
  absl::MutexLock lock(&mu_);
  collectors_.erase(id);
}

std::string Registry::TextExposition() const {
  TextWriter out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, f] : counters_) {
    absl::ReaderMutexLock series_lock(&f->mu_);
    out.Header(name, f->help_, "counter");
    for (const auto& [values, c] : f->series_) {
      out.Sample(name, "", f->labels_, values, static_cast<double>(c->Value()));
    }
  }
  for (const auto& [name, f] : gauges_) {
    absl::ReaderMutexLock series_lock(&f->mu_);
    out.Header(name, f->help_, "gauge");
    for (const auto& [values, g] : f->series_) {
      out.Sample(name, "", f->labels_, values, g->Value());
    }
  }
  for (const auto& [name, f] : histograms_) {
    absl::ReaderMutexLock series_lock(&f->mu_);
    out.Header(name, f->help_, "histogram");
    for (const auto& [values, h] : f->series_) {
      out.Histogram(name, f->labels_, values, h->bounds(), h->Read());
    }
  }
  // Collectors sharing a name are one family: one header, all samples.
  std::map<std::string, std::vector<const Collector*>> by_name;
  for (const auto& [id, c] : collectors_) by_name[c.name].push_back(&c);
  for (const auto& [name, group] : by_name) {
    const Collector& first = *group.front();
    out.Header(name, first.help,
               first.type == Type::kCounter ? "counter" : "gauge");
    for (const Collector* c : group) {
      for (const Sample& s : c->collect()) {
        out.Sample(name, "", c->labels, s.label_values, s.value);
      }
    }
  }
  return out.Take();
}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = other.registry_;
    id_ = other.id_;
    other.registry_ = nullptr;
  }
  return *this;
}

void CollectorHandle::Reset() {
  if (registry_ != nullptr) registry_->RemoveCollector(id_);
  registry_ = nullptr;
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double SecondsSince(int64_t start_nanos) {
  return static_cast<double>(NowNanos() - start_nanos) / 1e9;
}

}  // namespace achilles::metrics
