// Facts about the machine and the source tree a benchmark ran on, written
// at the top of every --json report so two reports can be judged
// comparable (same core count, kernel, load) before their figures are.
#ifndef ACHILLES_BENCH_MACHINE_FACTS_H_
#define ACHILLES_BENCH_MACHINE_FACTS_H_

#include <string>

#include "bench/json_writer.h"

namespace achilles::bench {

struct MachineFacts {
  int nproc = 0;           // Online cores.
  std::string kernel;      // uname: sysname release version machine.
  std::string cpu_model;   // From /proc/cpuinfo; may be empty.
  std::string date_utc;    // When the run started, ISO 8601.
  std::string loadavg;     // /proc/loadavg at the start: others' load.
  std::string source;      // git commit of the source tree, "-dirty" if so.
  std::string filesystem;  // Of the scratch dir: where the data was written.
};

// `scratch_dir` is where the benchmark writes its data.
MachineFacts CollectMachineFacts(const std::string& scratch_dir);
void WriteMachineFacts(JsonWriter* json, const MachineFacts& facts);

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_MACHINE_FACTS_H_
