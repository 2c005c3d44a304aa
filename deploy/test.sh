#!/usr/bin/env bash
# One command from a fresh Debian machine to a passing test suite: installs
# the dependencies, builds once, and runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/setup.sh
./deploy/build.sh
cd build
ctest --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 300
