// CPU time of a process tree from /proc, for "server CPU per request".
//
// A process's own utime+stime covers its threads; cutime+cstime covers only
// children it has already reaped. The server's plugin workers
// (--plugin_isolation=process) are live children, so the tree's time is
// the process's own and reaped time plus, for every live child (found by
// the ppid in /proc/*/stat), that child's own and reaped time. A worker
// that ends during a phase moves from the live sum to the reaped one, so a
// difference of two readings stays right.
#ifndef ACHILLES_BENCH_CPU_ACCOUNTING_H_
#define ACHILLES_BENCH_CPU_ACCOUNTING_H_

#include <sys/types.h>

namespace achilles::bench {

struct ProcStat {
  pid_t ppid = 0;
  double own_us = 0;     // utime + stime.
  double reaped_us = 0;  // cutime + cstime.
};

// False when the process is gone or its stat unreadable.
bool ReadProcStat(pid_t pid, ProcStat* out);

struct TreeCpu {
  double us = 0;           // The whole tree, as above.
  double children_us = 0;  // Of which the live children's.
  int live_children = 0;
};

// False when `pid` itself cannot be read.
bool ReadTreeCpu(pid_t pid, TreeCpu* out);

// This process's own CPU (the load generator's side), in microseconds.
double SelfCpuMicros();

}  // namespace achilles::bench

#endif  // ACHILLES_BENCH_CPU_ACCOUNTING_H_
