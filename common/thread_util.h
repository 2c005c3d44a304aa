// Starting a thread without an exception. std::thread throws
// std::system_error when the operating system refuses a thread (RLIMIT_NPROC,
// systemd's TasksMax, memory); on a gRPC callback thread that exception
// would end the whole process. Code that starts threads per request calls
// this instead and reports RESOURCE_EXHAUSTED. Thread-safe.
#ifndef ACHILLES_COMMON_THREAD_UTIL_H_
#define ACHILLES_COMMON_THREAD_UTIL_H_

#include <system_error>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace achilles {

// The running thread, or RESOURCE_EXHAUSTED naming `what` and the reason.
template <typename Fn>
absl::StatusOr<std::thread> StartThread(absl::string_view what, Fn&& fn) {
  // The one place exceptions are caught: std::thread has no other way to
  // report a refusal.
  try {
    return std::thread(std::forward<Fn>(fn));
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start a thread for ", what, ": ", e.what(),
                     " (thread limit reached: RLIMIT_NPROC or TasksMax)"));
  }
}

}  // namespace achilles

#endif  // ACHILLES_COMMON_THREAD_UTIL_H_
