#!/usr/bin/env bash
# Installs the build and runtime dependencies from Debian's packages
# (clang and its runtime libraries only for the fuzz targets, fuzz/).
# Safe to run again; needs root or sudo.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev librocksdb-dev libssl-dev libseccomp-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang-format
  libyaml-cpp-dev liblua5.4-dev
  clang libclang-rt-14-dev
  # Operations: metrics endpoint (HTTP), JSON logs, config file, and
  # promtool to check the metrics exposition and alert rules in the tests.
  libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev prometheus
  haproxy openssl python3-yaml libsystemd-dev systemd
  # EHR listener (services/ehr; docs/DEPENDENCIES.md): JWT (HTTP and JSON
  # are above), and the real browser and Node client its tests drive.
  libjwt-dev chromium nodejs
  # tcmalloc for the server and plugin worker (cmake/Allocator.cmake).
  libgoogle-perftools-dev
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all dependencies already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
