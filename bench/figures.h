// The figures a benchmark reports, gathered over --repeat runs: each is one
// value per run of a metric (e.g. "p99_us") of a group (a section such as
// "process" and a name such as "Evaluate(1000)"). Written as the
// "groups" array of a --json report, which bench/compare.py reads.
#ifndef ACHILLES_BENCH_FIGURES_H_
#define ACHILLES_BENCH_FIGURES_H_

#include <string>
#include <utility>
#include <vector>

#include "bench/json_writer.h"

namespace achilles::bench {

struct FigureGroup {
  std::string section;
  std::string name;
  // In the order first added; one value per run that measured it.
  std::vector<std::pair<std::string, std::vector<double>>> metrics;
  std::vector<std::string> notes;  // Errors and caveats, once each.

  // Null when the metric was never recorded.
  const std::vector<double>* Find(const std::string& metric) const;
};

class Figures {
 public:
  void Add(const std::string& section, const std::string& name,
           const std::string& metric, double value);
  // Notes repeat across runs; each is kept once.
  void Note(const std::string& section, const std::string& name,
            const std::string& note);

  const FigureGroup* Find(const std::string& section,
                          const std::string& name) const;
  const std::vector<FigureGroup>& groups() const { return groups_; }

  // Each metric as {"min", "median", "max", "runs": [...]}.
  void WriteJson(JsonWriter* json) const;

 private:
  FigureGroup& Group(const std::string& section, const std::string& name);
  std::vector<FigureGroup> groups_;
};

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_FIGURES_H_
