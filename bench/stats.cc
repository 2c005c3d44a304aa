// Percentiles and spreads for the benchmarks (see stats.h).
#include "bench/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace achilles::bench {
namespace {

// Nearest rank: the smallest sample with at least q of them at or below.
double Rank(const std::vector<double>& sorted, double q) {
  const double rank = std::ceil(q * static_cast<double>(sorted.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

Percentiles Summarize(std::vector<double> samples) {
  Percentiles p;
  if (samples.empty()) return p;
  std::sort(samples.begin(), samples.end());
  p.n = samples.size();
  p.p50 = Rank(samples, 0.50);
  p.p99 = Rank(samples, 0.99);
  return p;
}

Spread SpreadOf(std::vector<double> values) {
  Spread s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  const size_t mid = values.size() / 2;
  s.median = values.size() % 2 == 1 ? values[mid]
                                    : (values[mid - 1] + values[mid]) / 2;
  return s;
}

std::string FormatNumber(double value) {
  if (!std::isfinite(value)) return "-";
  const double magnitude = std::fabs(value);
  // Counts (errors, requests) and exact ratios print without decimals.
  const bool whole = value == std::floor(value);
  int digits = 3;
  if (whole || magnitude >= 100) {
    digits = 0;
  } else if (magnitude >= 10) {
    digits = 1;
  } else if (magnitude >= 1) {
    digits = 2;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, value);
  return buf;
}

std::string FormatSpread(const std::vector<double>& values) {
  if (values.empty()) return "-";
  const Spread s = SpreadOf(values);
  const std::string low = FormatNumber(s.min);
  const std::string high = FormatNumber(s.max);
  return low == high ? low : low + "-" + high;
}

}  // namespace achilles::bench
