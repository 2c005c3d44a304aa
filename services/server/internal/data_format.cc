#include "services/server/internal/data_format.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/log.h"

namespace achilles::server_internal {
namespace {

constexpr char kPrefix[] = "achilles-data-format ";

struct Step {
  int to;  // The version this step reaches from to - 1.
  const char* what;
  std::function<absl::Status(storage::TimelineStore*)> run;
};

// Every migration step, in order.
const std::vector<Step>& Steps() {
  static const auto* steps = new std::vector<Step>{
      {2, "record the data format in the data dir (no data changes)",
       [](storage::TimelineStore*) { return absl::OkStatus(); }},
  };
  return *steps;
}

absl::Status SyncDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool ok = fd >= 0 && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!ok) {
    return absl::InternalError(
        absl::StrCat("cannot sync ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// A dir the store has written to (RocksDB's CURRENT file names its
// manifest): format 1 when it has no FORMAT file.
bool HasStore(const std::string& data_dir) {
  std::error_code ec;
  return std::filesystem::exists(data_dir + "/CURRENT", ec);
}

}  // namespace

absl::StatusOr<int> ReadDataFormat(const std::string& data_dir) {
  const std::string path = absl::StrCat(data_dir, "/", kFormatFile);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) {
    return HasStore(data_dir) ? 1 : 0;
  }
  std::ifstream in(path);
  if (!in) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::string line;
  std::getline(in, line);
  absl::string_view rest = line;
  int version = 0;
  if (!absl::ConsumePrefix(&rest, kPrefix) ||
      !absl::SimpleAtoi(rest, &version) || version < 1) {
    return absl::DataLossError(
        absl::StrCat(path, " is not a data format marker (expected '", kPrefix,
                     "N', found '", line.substr(0, 64), "')"));
  }
  if (version > kDataFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", data_dir, " has data format ", version,
        ", newer than this server's format ", kDataFormat, " (achilles-server ",
        ACHILLES_VERSION,
        "): it was written by a newer server. Run that version, or restore "
        "a backup taken with this one; this server will not open it, so "
        "that it cannot damage data it does not understand"));
  }
  return version;
}

absl::Status WriteDataFormat(const std::string& data_dir, int version) {
  const std::string path = absl::StrCat(data_dir, "/", kFormatFile);
  const std::string tmp = path + ".tmp";
  const std::string text = absl::StrCat(kPrefix, version, "\n");
  const int fd =
      open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const bool written = fd >= 0 &&
                       write(fd, text.data(), text.size()) ==
                           static_cast<ssize_t>(text.size()) &&
                       fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return SyncDir(data_dir);
}

absl::Status MigrateDataFormat(const std::string& data_dir, int found,
                               storage::TimelineStore* store) {
  if (found == kDataFormat) return absl::OkStatus();
  if (found == 0) return WriteDataFormat(data_dir, kDataFormat);
  for (const Step& step : Steps()) {
    if (step.to <= found) continue;
    if (absl::Status st = step.run(store); !st.ok()) {
      return absl::Status(
          st.code(), absl::StrCat("data format migration to ", step.to, " (",
                                  step.what, ") failed: ", st.message()));
    }
    if (absl::Status st = WriteDataFormat(data_dir, step.to); !st.ok()) {
      return st;
    }
    LogEvent(LogLevel::kInfo, "data format migrated",
             {{"data_dir", data_dir},
              {"from", step.to - 1},
              {"to", step.to},
              {"step", step.what}});
  }
  return absl::OkStatus();
}

}  // namespace achilles::server_internal
