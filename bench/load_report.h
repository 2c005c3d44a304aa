// achilles-load's figures: one run's results turned into Figures (values,
// and ratios computed within the run, so their spread over runs is the
// spread of the ratio itself), and the text table printed at the end.
//
// Sections: "rocksdb" (the raw synced-write anchor), one per server mode
// ("inprocess", "process", or "target"), and "isolation" (process against
// inprocess, per Evaluate phase).
#ifndef ACHILLES_BENCH_LOAD_REPORT_H_
#define ACHILLES_BENCH_LOAD_REPORT_H_

#include <map>
#include <string>
#include <vector>

#include "bench/figures.h"
#include "bench/load_set.h"
#include "bench/raw_rocksdb.h"

namespace achilles::bench {

// Everything one repeat measured.
struct LoadRun {
  std::map<int, RawWriteResult> raw;  // By thread count.
  // Server mode and its phases, in the order run.
  std::vector<std::pair<std::string, std::vector<NamedPhase>>> modes;
};

std::string RawGroupName(int threads);

// Adds one run's figures.
void RecordLoadRun(const LoadRun& run, Figures* figures);

// The tables, figures given as min-max over the runs.
void PrintLoadReport(const Figures& figures, int runs);

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_LOAD_REPORT_H_
