#!/usr/bin/env bash
# The bash completion offers the commands, subcommands and per-command
# flags; the zsh file loads the same function.
#   completion_test.sh SOURCE_DIR
set -uo pipefail
SRC="$(cd "$1" && pwd)"
source "$SRC/cli/completion/achillesctl.bash"
failed=0
# complete WORDS... -> the candidates for the last word.
candidates() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _achillesctl
  echo "${COMPREPLY[*]}"
}
check() {
  local want="$1"
  shift
  local got
  got="$(candidates "$@")"
  if [[ "$got" != "$want" ]]; then
    echo "FAIL: completing '$*': got '$got', want '$want'"
    failed=$((failed + 1))
  fi
}
check "caseload" achillesctl cas
check "patient plugins policy" achillesctl p
check "upsert" achillesctl patient up
check "--changed_by=" achillesctl --json policy set --chan
check "reevaluate" achillesctl caseload re
check "--resume=" achillesctl caseload reevaluate --res
check "--server=" achillesctl --serv
if [[ "$(complete -p achillesctl)" != *"_achillesctl"* ]]; then
  echo "FAIL: no completion registered"; failed=$((failed + 1))
fi
if command -v zsh >/dev/null; then
  zsh -c "fpath=($SRC/cli/completion \$fpath); autoload -U compinit; compinit -u; autoload -U _achillesctl; source $SRC/cli/completion/_achillesctl; whence -w _achillesctl" | grep -q function ||
    { echo "FAIL: zsh does not load the completion"; failed=$((failed + 1)); }
fi
[ "$failed" -eq 0 ] && echo "completion: all checks passed"
[ "$failed" -eq 0 ]
