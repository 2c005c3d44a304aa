// Shared by the fuzz targets: the fixed "now" they validate against, so a
// crash input reproduces on any day, and a check that aborts (a crash the
// fuzzer reports) when a documented invariant does not hold.
#ifndef ACHILLES_FUZZ_FUZZ_COMMON_H_
#define ACHILLES_FUZZ_FUZZ_COMMON_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "google/protobuf/stubs/logging.h"

namespace achilles::fuzz {

// 2030-01-01T00:00:00Z: later than every scenario, so validation refuses
// only what is in the future of a fixed clock.
inline constexpr int64_t kNowMicros = int64_t{1893456000} * 1000000;

// A broken invariant is a finding: print it and abort, so libFuzzer saves the
// input as a crash.
#define ACH_FUZZ_CHECK(cond, what)                                        \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::fprintf(stderr, "invariant broken: %s (%s)\n", (what), #cond); \
      std::abort();                                                       \
    }                                                                     \
  } while (0)

// Protobuf logs every string field with invalid UTF-8 it parses; fuzz
// inputs are full of them. Call from LLVMFuzzerInitialize.
inline void QuietProtobuf() { google::protobuf::SetLogHandler(nullptr); }

}  // namespace achilles::fuzz

// Every target's one-time set-up.
#define ACH_FUZZ_INITIALIZE()                                    \
  extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) { \
    ::achilles::fuzz::QuietProtobuf();                           \
    return 0;                                                    \
  }

#endif  // ACHILLES_FUZZ_FUZZ_COMMON_H_
