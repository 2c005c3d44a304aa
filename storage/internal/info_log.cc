#include "storage/internal/info_log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

namespace achilles::storage_internal {
namespace {

class InfoLog final : public rocksdb::Logger {
 public:
  explicit InfoLog(int fd) : fd_(fd) {}
  ~InfoLog() override { close(fd_); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    timeval now;
    gettimeofday(&now, nullptr);
    tm t;
    localtime_r(&now.tv_sec, &t);
    char prefix[64];
    const int p = std::snprintf(
        prefix, sizeof prefix, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld %zx ",
        t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min,
        t.tm_sec, static_cast<long>(now.tv_usec),
        std::hash<std::thread::id>()(std::this_thread::get_id()) & 0xffffff);
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    if (p < 0 || n < 0) return;
    std::string line(prefix, static_cast<size_t>(p));
    line.resize(line.size() + static_cast<size_t>(n) + 1);
    std::vsnprintf(&line[static_cast<size_t>(p)], static_cast<size_t>(n) + 1,
                   format, ap);
    line.back() = '\n';
    // One write(2) per line, O_APPEND: lines from threads never interleave.
    // A failed write (disk full) loses the line, nothing more.
    if (write(fd_, line.data(), line.size()) < 0) {
    }
  }

 private:
  const int fd_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& dir) {
  const std::string path = dir + "/LOG";
  std::rename(path.c_str(), (path + ".old").c_str());
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  return std::make_shared<InfoLog>(fd);
}

}  // namespace achilles::storage_internal
