// Metrics: counters, gauges and histograms with labels, and their
// Prometheus text exposition (format 0.0.4). Written here because
// prometheus-cpp is not packaged in Debian 12; `promtool check metrics`
// validates the output in tests/ops.
//
// A family (name, help, label names) holds one series per combination of
// label values. Looking a series up takes the family's reader lock; after
// that, updating it is a few relaxed atomics, so a hot path can keep the
// reference it got (series live as long as their registry and are never
// removed). Values computed at scrape time (process and store figures) come
// from collectors: callbacks the registry runs while it writes the
// exposition, added and removed by their owner.
//
// Determinism: families are written by kind (counters, gauges, histograms,
// collectors), each kind in name order, series in label-value
// order, numbers in the shortest form that reads back exactly.
// Thread-safety: everything here is thread-safe. Registry::Default() lives
// for the whole process.
#ifndef ACHILLES_COMMON_METRICS_METRICS_H_
#define ACHILLES_COMMON_METRICS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace achilles::metrics {

class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, kRelaxed); }
  uint64_t Value() const { return value_.load(kRelaxed); }

 private:
  static constexpr auto kRelaxed = std::memory_order_relaxed;
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (upper bounds, ascending; +Inf is
// implicit). Observe is lock-free.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double value);

  struct Reading {
    std::vector<uint64_t> cumulative;  // Per bound, then +Inf.
    uint64_t count = 0;
    double sum = 0;
  };
  // Not atomic across buckets: a reading taken during Observe calls may
  // be off by those calls, as every Prometheus client's is.
  Reading Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1.
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 0.5 ms to 10 s: what an RPC, a plugin call or
// an fsync takes on the machines this runs on.
const std::vector<double>& LatencyBuckets();

enum class Type { kCounter, kGauge, kHistogram };

// The series of one family. `T` is Counter, Gauge or Histogram.
template <typename T>
class Family {
 public:
  // The series for these label values, one per label name in order (a
  // missing value is "", extras are ignored), created at zero on first use.
  T& WithLabels(std::initializer_list<absl::string_view> values);
  T& WithLabels(const std::vector<std::string>& values);

  const std::string& name() const { return name_; }

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds)
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}
  T& Find(std::vector<std::string> key);

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;  // Histograms only.
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_
      ABSL_GUARDED_BY(mu_);
};

// One value a collector reports: label values in the order of the
// collector's label names (an empty value leaves that label out).
struct Sample {
  std::vector<std::string> label_values;
  double value = 0;
};
using CollectFn = std::function<std::vector<Sample>()>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The process's registry, which the server exposes.
  static Registry& Default();

  // The family of this name, created on first call. Names and labels must
  // be valid Prometheus names (checked by the tests' promtool run); a
  // second call with the same name returns the first family whatever its
  // help and labels. Counter names end in _total.
  Family<Counter>& CounterFamily(const std::string& name,
                                 const std::string& help,
                                 std::vector<std::string> labels = {});
  Family<Gauge>& GaugeFamily(const std::string& name, const std::string& help,
                             std::vector<std::string> labels = {});
  Family<Histogram>& HistogramFamily(
      const std::string& name, const std::string& help,
      std::vector<std::string> labels = {},
      std::vector<double> bounds = LatencyBuckets());

  // Adds a family whose samples `collect` computes at each exposition
  // (type kCounter or kGauge); returns the id RemoveCollector takes. Two
  // collectors may share a name (two servers in one test process): their
  // samples are written together.
  uint64_t AddCollector(const std::string& name, const std::string& help,
                        Type type, std::vector<std::string> labels,
                        CollectFn collect);
  void RemoveCollector(uint64_t id);

  // Every family and collector in the text exposition format.
  std::string TextExposition() const;

 private:
  struct Collector {
    std::string name, help;
    Type type;
    std::vector<std::string> labels;
    CollectFn collect;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Family<Counter>>> counters_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Family<Gauge>>> gauges_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Family<Histogram>>> histograms_
      ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Collector> collectors_ ABSL_GUARDED_BY(mu_);
  uint64_t next_collector_ ABSL_GUARDED_BY(mu_) = 1;
};

// Removes its collector when destroyed. Movable.
class CollectorHandle {
 public:
  CollectorHandle() = default;
  CollectorHandle(Registry* registry, uint64_t id)
      : registry_(registry), id_(id) {}
  CollectorHandle(CollectorHandle&& other) noexcept {
    *this = std::move(other);
  }
  CollectorHandle& operator=(CollectorHandle&& other) noexcept;
  ~CollectorHandle() { Reset(); }
  void Reset();

 private:
  Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

// Seconds between two steady-clock readings, for Observe.
double SecondsSince(int64_t start_nanos);
int64_t NowNanos();  // Steady clock.

// ---- implementation details below ----

template <typename T>
T& Family<T>::WithLabels(std::initializer_list<absl::string_view> values) {
  std::vector<std::string> key;
  key.reserve(labels_.size());
  for (absl::string_view v : values) {
    if (key.size() == labels_.size()) break;
    key.emplace_back(v);
  }
  return Find(std::move(key));
}

template <typename T>
T& Family<T>::WithLabels(const std::vector<std::string>& values) {
  std::vector<std::string> key(values.begin(),
                               values.size() > labels_.size()
                                   ? values.begin() + labels_.size()
                                   : values.end());
  return Find(std::move(key));
}

template <typename T>
T& Family<T>::Find(std::vector<std::string> key) {
  key.resize(labels_.size());
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = series_.find(key);
    if (it != series_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  auto& slot = series_[std::move(key)];
  if (slot == nullptr) {
    if constexpr (std::is_same_v<T, Histogram>) {
      slot = std::make_unique<T>(bounds_);
    } else {
      slot = std::make_unique<T>();
    }
  }
  return *slot;
}

}  // namespace achilles::metrics

#endif  // ACHILLES_COMMON_METRICS_METRICS_H_
