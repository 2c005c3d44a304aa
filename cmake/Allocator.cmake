# The allocator of the long-running programs (server, plugin worker).
#
# Every request allocates and frees many small objects (protobuf messages,
# strings, RocksDB buffers) from many threads; tcmalloc's per-thread caches
# take about a tenth off the server's CPU per Evaluate (bench/README.md,
# "Second pass"; docs/DEPENDENCIES.md). Sanitizer and fuzz builds keep
# glibc's malloc: their runtimes replace it themselves.
#
#   -DACHILLES_TCMALLOC=OFF   link glibc's malloc everywhere.
option(ACHILLES_TCMALLOC "Link the server and plugin worker with tcmalloc_minimal" ON)
set(ACHILLES_MALLOC_LIBS "")
if(ACHILLES_TCMALLOC AND NOT ACHILLES_FUZZ AND
   NOT CMAKE_BUILD_TYPE MATCHES "^(Asan|Tsan)$")
  find_library(ACHILLES_TCMALLOC_LIBRARY NAMES tcmalloc_minimal)
  if(NOT ACHILLES_TCMALLOC_LIBRARY)
    message(FATAL_ERROR "tcmalloc_minimal not found: install "
                        "libgoogle-perftools-dev (deploy/setup.sh does) or "
                        "configure with -DACHILLES_TCMALLOC=OFF")
  endif()
  # Kept even where the linker drops libraries nothing refers to by name:
  # it replaces malloc by being loaded before libc. One item, so CMake
  # cannot reorder or merge the state flags.
  set(ACHILLES_MALLOC_LIBS
      "-Wl,--push-state,--no-as-needed,${ACHILLES_TCMALLOC_LIBRARY},--pop-state")
endif()
