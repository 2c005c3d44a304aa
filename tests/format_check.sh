#!/usr/bin/env bash
# Fails when any C++ file is not clang-format clean (Google style, see
# .clang-format). Fix with: clang-format -i $(the files listed)
set -euo pipefail
cd "$1"
mapfile -t files < <(find common services storage plugins cli bench tests fuzz sanitizers \
  -name '*.cc' -o -name '*.h' | sort)
bad=()
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" > /dev/null 2>&1; then
    bad+=("$f")
  fi
done
if [ "${#bad[@]}" -ne 0 ]; then
  echo "not clang-format clean:"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "${#files[@]} files clang-format clean"
