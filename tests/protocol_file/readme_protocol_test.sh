#!/usr/bin/env bash
# The protocol file README.md shows ("Writing a protocol file") must load
# and pass a scenario through the harness exactly as printed there.
#   readme_protocol_test.sh HARNESS README SCENARIO
set -euo pipefail
harness="$1" readme="$2" scenario="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The indented block from "    format: 1" to the first blank line.
awk '/^    format: 1$/ {on = 1} on && /^$/ {exit} on {print substr($0, 5)}' \
  "$readme" > "$work/my_clinic.protocol.yaml"
test -s "$work/my_clinic.protocol.yaml"
"$harness" --plugin="$work/my_clinic.protocol.yaml" "$scenario"
