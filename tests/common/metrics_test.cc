#include "common/metrics/metrics.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics/internal/text_format.h"
#include "tests/common/temp_dir.h"

namespace achilles::metrics {
namespace {

TEST(Metrics, CounterGaugeHistogramHoldWhatWasRecorded) {
  Registry r;
  auto& c = r.CounterFamily("t_calls_total", "calls", {"method"});
  c.WithLabels({"A"}).Increment();
  c.WithLabels({"A"}).Increment(2);
  c.WithLabels({"B"}).Increment();
  EXPECT_EQ(c.WithLabels({"A"}).Value(), 3u);
  EXPECT_EQ(c.WithLabels({"B"}).Value(), 1u);
  auto& g = r.GaugeFamily("t_level", "level").WithLabels({});
  g.Set(2.5);
  g.Add(-1);
  EXPECT_DOUBLE_EQ(g.Value(), 1.5);
  auto& h = r.HistogramFamily("t_seconds", "s", {}, {1, 2}).WithLabels({});
  h.Observe(0.5);
  h.Observe(1);  // A bound is inclusive (le).
  h.Observe(1.5);
  h.Observe(9);
  const Histogram::Reading read = h.Read();
  EXPECT_EQ(read.cumulative, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(read.count, 4u);
  EXPECT_DOUBLE_EQ(read.sum, 12);
}

TEST(Metrics, SameNameReturnsTheSameFamily) {
  Registry r;
  auto& a = r.CounterFamily("t_total", "x", {"l"});
  auto& b = r.CounterFamily("t_total", "other help", {});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.WithLabels({"v"}), &b.WithLabels({"v"}));
}

TEST(Metrics, ExpositionIsExactAndOrdered) {
  Registry r;
  auto& c =
      r.CounterFamily("t_calls_total", "Calls, by method.", {"method", "code"});
  c.WithLabels({"b", "OK"}).Increment(2);
  c.WithLabels({"a", "OK"}).Increment();
  r.GaugeFamily("t_up", "Up.").WithLabels({}).Set(1);
  r.HistogramFamily("t_seconds", "Time.", {"m"}, {0.5, 1})
      .WithLabels({"x"})
      .Observe(0.25);
  EXPECT_EQ(r.TextExposition(),
            "# HELP t_calls_total Calls, by method.\n"
            "# TYPE t_calls_total counter\n"
            "t_calls_total{method=\"a\",code=\"OK\"} 1\n"
            "t_calls_total{method=\"b\",code=\"OK\"} 2\n"
            "# HELP t_up Up.\n"
            "# TYPE t_up gauge\n"
            "t_up 1\n"
            "# HELP t_seconds Time.\n"
            "# TYPE t_seconds histogram\n"
            "t_seconds_bucket{m=\"x\",le=\"0.5\"} 1\n"
            "t_seconds_bucket{m=\"x\",le=\"1\"} 1\n"
            "t_seconds_bucket{m=\"x\",le=\"+Inf\"} 1\n"
            "t_seconds_sum{m=\"x\"} 0.25\n"
            "t_seconds_count{m=\"x\"} 1\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(metrics_internal::EscapeLabelValue("a\"b\\c\nd"),
            "a\\\"b\\\\c\\nd");
  EXPECT_EQ(metrics_internal::EscapeHelp("a\\b\nc\""), "a\\\\b\\nc\"");
  EXPECT_EQ(metrics_internal::FormatNumber(0.1), "0.1");
  EXPECT_EQ(metrics_internal::FormatNumber(1e21), "1e+21");
  EXPECT_EQ(metrics_internal::FormatNumber(1.0 / 0.0), "+Inf");
}

TEST(Metrics, CollectorsRunAtExpositionAndGoAwayWithTheirHandle) {
  Registry r;
  int calls = 0;
  {
    CollectorHandle h(
        &r,
        r.AddCollector("t_open_fds", "Fds.", Type::kGauge, {"kind"}, [&calls] {
          ++calls;
          return std::vector<Sample>{{{"socket"}, 3}, {{""}, 7}};
        }));
    EXPECT_EQ(r.TextExposition(),
              "# HELP t_open_fds Fds.\n# TYPE t_open_fds gauge\n"
              "t_open_fds{kind=\"socket\"} 3\nt_open_fds 7\n");
    EXPECT_EQ(calls, 1);
  }
  EXPECT_EQ(r.TextExposition(), "");
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  auto& c = r.CounterFamily("t_total", "x", {"k"});
  auto& h = r.HistogramFamily("t_seconds", "x", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.WithLabels({t % 2 == 0 ? "even" : "odd"}).Increment();
        h.WithLabels({}).Observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.WithLabels({"even"}).Value(), 20000u);
  EXPECT_EQ(c.WithLabels({"odd"}).Value(), 20000u);
  EXPECT_EQ(h.WithLabels({}).Read().count, 40000u);
  EXPECT_DOUBLE_EQ(h.WithLabels({}).Read().sum, 20000);
}

// promtool, Prometheus' own checker, accepts what we write (names, types,
// histogram series, escaping).
TEST(Metrics, PromtoolAcceptsTheExposition) {
  if (std::string(PROMTOOL).empty()) {
    GTEST_SKIP() << "promtool not found at configure time (Debian package "
                    "prometheus; deploy/setup.sh installs it)";
  }
  Registry r;
  r.CounterFamily("achilles_test_requests_total", "Requests.", {"method"})
      .WithLabels({"a\"b\\c"})
      .Increment();
  r.HistogramFamily("achilles_test_duration_seconds", "Duration.", {"m"})
      .WithLabels({"x"})
      .Observe(0.003);
  r.GaugeFamily("achilles_test_bytes", "Bytes.").WithLabels({}).Set(1e12);
  testing::TempDir dir;
  const std::string file = dir.Sub("metrics.txt");
  std::ofstream(file) << r.TextExposition();
  const std::string cmd =
      std::string(PROMTOOL) + " check metrics < " + file + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << r.TextExposition();
}

}  // namespace
}  // namespace achilles::metrics
