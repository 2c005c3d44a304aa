#!/usr/bin/env bash
# One command from a fresh Debian machine to a passing test suite: installs
# the dependencies, builds once, and runs every test with ctest; then the
# assurance suites (README.md, "Assurance"): the whole suite again under
# ASan+UBSan and under ThreadSanitizer (deploy/test-sanitizers.sh asan,
# tsan), and each fuzz target for $FUZZ_SECONDS (default 30; fuzz/run.sh).
# The normal build's Debian packages are then installed, run and purged
# (deploy/package-test.sh; needs root, as on CI).
#   TEST_SUITES="normal package asan tsan fuzz" (the default) picks the suites, e.g.
#   TEST_SUITES=normal ./deploy/test.sh for the quick run only. About
#   41 min on CI's 2 cores (README.md, "Assurance").
set -euo pipefail
cd "$(dirname "$0")/.."

SUITES="${TEST_SUITES:-normal package asan tsan fuzz}"
want() { [[ " $SUITES " == *" $1 "* ]]; }

./deploy/setup.sh
start=$SECONDS
if want normal; then
  ./deploy/build.sh
  (cd build && ctest --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 300)
  echo "test: normal suite $((SECONDS - start)) s"
fi
if want package; then
  if [ "$(id -u)" -eq 0 ]; then
    ./deploy/package-test.sh build
  else
    echo "test: package suite skipped (installs packages: run as root)"
  fi
fi
for kind in asan tsan; do
  if want "$kind"; then
    ./deploy/test-sanitizers.sh "$kind"
  fi
done
if want fuzz; then
  t=$SECONDS
  ./fuzz/run.sh "${FUZZ_SECONDS:-30}"
  echo "test: fuzz $((SECONDS - t)) s"
fi
echo "test: all suites ($SUITES) $((SECONDS - start)) s"
