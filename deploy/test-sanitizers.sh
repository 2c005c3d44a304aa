#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/, CMAKE_BUILD_TYPE=Asan) and ThreadSanitizer (build-tsan/,
# CMAKE_BUILD_TYPE=Tsan). Each configuration is built once, incrementally
# after that; any sanitizer report fails its test. Runtime options and the
# commented suppressions for the uninstrumented Debian libraries are in
# sanitizers/.
#   deploy/test-sanitizers.sh            # both (deploy/test.sh runs this)
#   deploy/test-sanitizers.sh tsan       # one
# Parallel jobs: $JOBS (default nproc). Needs deploy/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS="${JOBS:-$(nproc)}"
KINDS=("$@")
if [ "${#KINDS[@]}" -eq 0 ]; then
  KINDS=(asan tsan)
fi

for kind in "${KINDS[@]}"; do
  case "$kind" in
    asan) type=Asan ;;
    tsan) type=Tsan ;;
    *) echo "test-sanitizers: unknown kind '$kind' (asan or tsan)"; exit 2 ;;
  esac
  dir="build-$kind"
  start=$SECONDS
  if [ ! -f "$dir/build.ninja" ]; then
    # Benchmarks are not tests; no need to build them sanitized.
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" \
      -DACHILLES_BUILD_BENCH=OFF
  fi
  cmake --build "$dir" -j "$JOBS"
  built=$SECONDS
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" --timeout 600)
  echo "test-sanitizers: $kind: build $((built - start)) s, tests $((SECONDS - built)) s"
done
