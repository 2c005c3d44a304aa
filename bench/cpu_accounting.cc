// Process-tree CPU time from /proc (see cpu_accounting.h).
#include "bench/cpu_accounting.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace achilles::bench {
namespace {

double MicrosPerTick() {
  static const double us = 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
  return us;
}

// The fields after the command name, which may itself hold spaces and
// parentheses: everything after the last ')'. fields[0] is field 3 (state).
bool StatFields(pid_t pid, std::vector<std::string>* fields) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  const auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 1));
  for (std::string f; rest >> f;) fields->push_back(f);
  return fields->size() > 14;
}

}  // namespace

bool ReadProcStat(pid_t pid, ProcStat* out) {
  std::vector<std::string> f;
  if (!StatFields(pid, &f)) return false;
  auto ticks = [&f](int field) {
    return std::strtod(f[field - 3].c_str(), nullptr);
  };
  out->ppid = static_cast<pid_t>(std::strtol(f[4 - 3].c_str(), nullptr, 10));
  out->own_us = (ticks(14) + ticks(15)) * MicrosPerTick();
  out->reaped_us = (ticks(16) + ticks(17)) * MicrosPerTick();
  return true;
}

bool ReadTreeCpu(pid_t pid, TreeCpu* out) {
  ProcStat self;
  if (!ReadProcStat(pid, &self)) return false;
  *out = TreeCpu{};
  out->us = self.own_us + self.reaped_us;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return true;
  while (const dirent* e = readdir(proc)) {
    char* end = nullptr;
    const long child = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    ProcStat s;
    if (!ReadProcStat(static_cast<pid_t>(child), &s) || s.ppid != pid) {
      continue;
    }
    out->children_us += s.own_us + s.reaped_us;
    ++out->live_children;
  }
  closedir(proc);
  out->us += out->children_us;
  return true;
}

double SelfCpuMicros() {
  // getrusage is finer than /proc's clock ticks and excludes the server,
  // which is this process's child.
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto us = [](const timeval& t) { return t.tv_sec * 1e6 + t.tv_usec; };
  return us(u.ru_utime) + us(u.ru_stime);
}

}  // namespace achilles::bench
