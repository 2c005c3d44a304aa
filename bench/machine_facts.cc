// Machine and source facts for benchmark reports (see machine_facts.h).
// ACHILLES_SOURCE_DIR is the source tree the benchmark was built from.
#include "bench/machine_facts.h"

#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace achilles::bench {
namespace {

std::string FirstLineOf(const std::string& command) {
  std::string out;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[256];
    if (std::fgets(buf, sizeof(buf), p) != nullptr) out = buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

// The binary may be older than the tree; the commit is what the tree says.
std::string SourceCommit() {
  const std::string git = absl::StrCat("git -C '", ACHILLES_SOURCE_DIR, "' ");
  const std::string head =
      FirstLineOf(git + "rev-parse --short=12 HEAD 2>/dev/null");
  if (head.empty()) return "unknown";
  const std::string dirty = FirstLineOf(
      git + "status --porcelain --untracked-files=no 2>/dev/null | head -1");
  return dirty.empty() ? head : head + "-dirty";
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "";
}

std::string NowUtc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The filesystem type by name for the common ones; fsync cost depends on it.
std::string FilesystemOf(const std::string& dir) {
  struct statfs fs {};
  if (statfs(dir.c_str(), &fs) != 0) return "unknown";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs";
    case 0x794C7630:
      return "overlayfs";
    default:
      return absl::StrFormat("0x%x", static_cast<unsigned long>(fs.f_type));
  }
}

}  // namespace

MachineFacts CollectMachineFacts(const std::string& scratch_dir) {
  MachineFacts f;
  f.nproc = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  utsname u{};
  if (uname(&u) == 0) {
    f.kernel =
        absl::StrCat(u.sysname, " ", u.release, " ", u.version, " ", u.machine);
  }
  f.cpu_model = CpuModel();
  f.date_utc = NowUtc();
  std::ifstream load("/proc/loadavg");
  std::getline(load, f.loadavg);
  f.source = SourceCommit();
  f.filesystem = FilesystemOf(scratch_dir);
  return f;
}

void WriteMachineFacts(JsonWriter* json, const MachineFacts& f) {
  json->BeginObject();
  json->Field("nproc", f.nproc);
  json->Field("kernel", f.kernel);
  json->Field("cpu_model", f.cpu_model);
  json->Field("date_utc", f.date_utc);
  json->Field("loadavg_at_start", f.loadavg);
  json->Field("source_commit", f.source);
  json->Field("scratch_filesystem", f.filesystem);
  json->EndObject();
}

}  // namespace achilles::bench
