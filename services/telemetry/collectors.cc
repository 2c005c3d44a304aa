// Figures computed at scrape time: the process's and the store's.
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "services/telemetry/telemetry.h"

namespace achilles::telemetry {
namespace {

using metrics::CollectorHandle;
using metrics::Registry;
using metrics::Sample;
using metrics::Type;

std::vector<Sample> One(double v) { return {Sample{{}, v}}; }

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// /proc/self/statm: sizes in pages; field 0 virtual, field 1 resident.
double MemoryBytes(int field) {
  std::ifstream in("/proc/self/statm");
  double pages[2] = {0, 0};
  in >> pages[0] >> pages[1];
  return pages[field] * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double OpenFds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    ++n;
  }
  return n;
}

double MaxFds() {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  return static_cast<double>(r.rlim_cur);
}

// Boot time plus the process's start in clock ticks after boot
// (/proc/self/stat field 22, read after the command name's closing paren,
// which may itself hold spaces).
double StartTimeSeconds() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) start_ticks = std::stoull(field);
  }
  std::ifstream proc_stat("/proc/stat");
  std::string key;
  double boot = 0;
  while (proc_stat >> key) {
    if (key == "btime") {
      proc_stat >> boot;
      break;
    }
  }
  return boot + static_cast<double>(start_ticks) /
                    static_cast<double>(sysconf(_SC_CLK_TCK));
}

CollectorHandle Add(Registry* r, const char* name, const char* help, Type type,
                    metrics::CollectFn fn) {
  return CollectorHandle(r,
                         r->AddCollector(name, help, type, {}, std::move(fn)));
}

}  // namespace

std::vector<CollectorHandle> AddProcessCollectors(Registry* r) {
  const double start = StartTimeSeconds();
  std::vector<CollectorHandle> out;
  out.push_back(Add(r, "process_cpu_seconds_total",
                    "User and system CPU time the process has used.",
                    Type::kCounter, [] { return One(CpuSeconds()); }));
  out.push_back(Add(r, "process_resident_memory_bytes", "Resident memory.",
                    Type::kGauge, [] { return One(MemoryBytes(1)); }));
  out.push_back(Add(r, "process_virtual_memory_bytes", "Virtual memory.",
                    Type::kGauge, [] { return One(MemoryBytes(0)); }));
  out.push_back(Add(r, "process_open_fds", "Open file descriptors.",
                    Type::kGauge, [] { return One(OpenFds()); }));
  out.push_back(Add(r, "process_max_fds",
                    "The file descriptor limit (RLIMIT_NOFILE, soft).",
                    Type::kGauge, [] { return One(MaxFds()); }));
  out.push_back(Add(r, "process_start_time_seconds",
                    "When the process started, in seconds since the epoch.",
                    Type::kGauge, [start] { return One(start); }));
  return out;
}

std::vector<CollectorHandle> AddStoreCollectors(Registry* r,
                                                storage::TimelineStore* store,
                                                std::string data_dir) {
  using F = storage::StoreFigures;
  auto figure = [store](uint64_t F::*member) {
    return [store, member] {
      return One(static_cast<double>(store->Figures().*member));
    };
  };
  std::vector<CollectorHandle> out;
  out.push_back(Add(r, "achilles_store_block_cache_hits_total",
                    "Reads served from the store's block cache.",
                    Type::kCounter, figure(&F::block_cache_hits)));
  out.push_back(Add(r, "achilles_store_block_cache_misses_total",
                    "Reads the block cache could not serve (read from disk).",
                    Type::kCounter, figure(&F::block_cache_misses)));
  out.push_back(Add(r, "achilles_store_pending_compaction_bytes",
                    "RocksDB's estimate of bytes compaction has still to "
                    "rewrite; growth means writes outpace compaction.",
                    Type::kGauge, figure(&F::pending_compaction_bytes)));
  out.push_back(Add(r, "achilles_store_live_data_bytes",
                    "RocksDB's estimate of the live data in the store.",
                    Type::kGauge, figure(&F::live_data_bytes)));
  out.push_back(Add(r, "achilles_store_sst_files_bytes",
                    "Bytes of the store's table files.", Type::kGauge,
                    figure(&F::sst_files_bytes)));
  auto disk = [data_dir](bool free_only) {
    return [data_dir, free_only] {
      struct statvfs fs {};
      if (statvfs(data_dir.c_str(), &fs) != 0) return std::vector<Sample>{};
      const double blocks =
          static_cast<double>(free_only ? fs.f_bavail : fs.f_blocks);
      return One(blocks * static_cast<double>(fs.f_frsize));
    };
  };
  out.push_back(Add(r, "achilles_store_disk_free_bytes",
                    "Bytes free to the server on the data dir's file system.",
                    Type::kGauge, disk(true)));
  out.push_back(Add(r, "achilles_store_disk_size_bytes",
                    "Size of the data dir's file system.", Type::kGauge,
                    disk(false)));
  return out;
}

}  // namespace achilles::telemetry
