# Extra build types and the fuzzing switch.
#
#   -DCMAKE_BUILD_TYPE=Asan   AddressSanitizer + UndefinedBehaviorSanitizer;
#                             any UB report aborts the process.
#   -DCMAKE_BUILD_TYPE=Tsan   ThreadSanitizer.
#   -DACHILLES_FUZZ=ON        clang only: every library is built with
#                             coverage for libFuzzer plus ASan+UBSan, and the
#                             targets under fuzz/ are added (see fuzz/README.md).
#
# The whole project and test suite build under each type (gcc or clang). The
# Debian libraries (gRPC, protobuf, Abseil, RocksDB) stay uninstrumented;
# sanitizers/ holds the runtime options and the few suppressions that
# follows from that, each one explained.
set(ACHILLES_BUILD_TYPES Debug Release RelWithDebInfo MinSizeRel Asan Tsan)
if(CMAKE_BUILD_TYPE AND NOT CMAKE_BUILD_TYPE IN_LIST ACHILLES_BUILD_TYPES)
  message(FATAL_ERROR "CMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE} is not one of "
                      "${ACHILLES_BUILD_TYPES}")
endif()

# -O1 keeps the sanitized suite fast enough for CI while leaving stacks
# readable; no NDEBUG, so assertions run too.
set(ACH_ASAN_FLAGS "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined")
set(ACH_TSAN_FLAGS "-O1 -g -fno-omit-frame-pointer -fsanitize=thread")
foreach(lang C CXX)
  set(CMAKE_${lang}_FLAGS_ASAN "${ACH_ASAN_FLAGS}" CACHE STRING "" FORCE)
  set(CMAKE_${lang}_FLAGS_TSAN "${ACH_TSAN_FLAGS}" CACHE STRING "" FORCE)
endforeach()
foreach(kind EXE SHARED MODULE)
  set(CMAKE_${kind}_LINKER_FLAGS_ASAN "-fsanitize=address,undefined"
      CACHE STRING "" FORCE)
  set(CMAKE_${kind}_LINKER_FLAGS_TSAN "-fsanitize=thread" CACHE STRING "" FORCE)
endforeach()

option(ACHILLES_FUZZ "Build the libFuzzer targets under fuzz/ (clang)" OFF)
if(ACHILLES_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ACHILLES_FUZZ=ON needs clang: configure with "
                        "CC=clang CXX=clang++ (fuzz/run.sh does)")
  endif()
  # Coverage for every library the targets reach; -fsanitize=fuzzer (the
  # driver with main) is added to the fuzz executables only.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
