// Latency percentiles of one phase, and the spread (min, median, max) of a
// figure over --repeat runs. Used by achilles-load and
// achilles-caseload-bench; see bench/README.md.
#ifndef ACHILLES_BENCH_STATS_H_
#define ACHILLES_BENCH_STATS_H_

#include <cstddef>
#include <string>
#include <vector>

namespace achilles::bench {

struct Percentiles {
  double p50 = 0;
  double p99 = 0;
  size_t n = 0;
};

// Nearest-rank percentiles; all zero for no samples.
Percentiles Summarize(std::vector<double> samples);

struct Spread {
  double min = 0;
  double median = 0;
  double max = 0;
};

Spread SpreadOf(std::vector<double> values);

// "1234" for one value (or equal ones), "1200-1300" for a range; digits
// after the point shrink as values grow, so columns stay readable.
std::string FormatSpread(const std::vector<double>& values);
std::string FormatNumber(double value);

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_STATS_H_
