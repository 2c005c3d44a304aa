#!/usr/bin/env bash
# Builds the libFuzzer targets (if needed) and runs each for SECONDS
# (default 30), failing on the first crash, leak, timeout or broken
# invariant.
#   fuzz/run.sh [SECONDS] [TARGET...]
#   fuzz/run.sh 30                      # what CI runs
#   fuzz/run.sh 1800 engine_fuzzer      # a longer run by hand
# Build dir: $FUZZ_BUILD_DIR (default build-fuzz, clang, ACHILLES_FUZZ=ON);
# parallel jobs: $JOBS (default nproc). Seeds are read from
# fuzz/corpus/<target>/ (never written); what the fuzzer finds goes to
# $FUZZ_BUILD_DIR/corpus/<target>/, crashes to $FUZZ_BUILD_DIR/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${1:-30}"
shift || true
TARGETS=("$@")
if [ "${#TARGETS[@]}" -eq 0 ]; then
  TARGETS=(request_validation_fuzzer scenario_json_fuzzer engine_fuzzer
           frame_fuzzer)
fi
BUILD_DIR="${FUZZ_BUILD_DIR:-build-fuzz}"
JOBS="${JOBS:-$(nproc)}"

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACHILLES_FUZZ=ON \
    -DACHILLES_BUILD_TESTS=OFF -DACHILLES_BUILD_BENCH=OFF
fi
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}"

mkdir -p "$BUILD_DIR/artifacts"
failed=()
for t in "${TARGETS[@]}"; do
  seeds="fuzz/corpus/${t%_fuzzer}"
  work="$BUILD_DIR/corpus/${t%_fuzzer}"
  mkdir -p "$work"
  dict=()
  if [ -f "fuzz/${t%_fuzzer}.dict" ]; then
    dict=(-dict="fuzz/${t%_fuzzer}.dict")
  fi
  echo "== $t: ${SECONDS_EACH}s"
  log="$BUILD_DIR/artifacts/$t.log"
  if "$BUILD_DIR/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=20 \
       -rss_limit_mb=2560 -print_final_stats=1 "${dict[@]}" \
       -artifact_prefix="$BUILD_DIR/artifacts/$t-" "$work" "$seeds" \
       > "$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|new_units_added)|Done [0-9]+ runs' \
      "$log" | sed 's/^/   /' || true
  else
    echo "FAILED: $t (log: $log); tail:"
    tail -40 "$log"
    echo "reproduce: $BUILD_DIR/fuzz/$t $BUILD_DIR/artifacts/$t-<crash file>"
    failed+=("$t")
  fi
done
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} target(s) ran ${SECONDS_EACH}s each without a finding"
