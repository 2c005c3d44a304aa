#!/usr/bin/env bash
# One command from a fresh Debian machine to a running server: installs the
# dependencies, builds, and serves on 127.0.0.1:50051 with the embedded
# RocksDB store under ./data and the four bundled protocol plugins.
# Extra arguments go to achilles-server (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/setup.sh
# Only what serving needs; deploy/test.sh builds the rest.
./deploy/build.sh achilles-server achilles-plugin-worker achillesctl \
  achilles-plugin-test midportion_hsr insertional_flat isometric return_to_run

exec ./build/services/server/achilles-server \
  --data_dir="${DATA_DIR:-./data}" \
  --plugin_dir=./build/plugins.d \
  --listen="${LISTEN:-127.0.0.1:50051}" \
  "$@"
