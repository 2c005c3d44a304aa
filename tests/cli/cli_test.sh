#!/usr/bin/env bash
# achillesctl against a real server: human output, --json, exit statuses
# (0 ok, 1 server error, 2 usage error) and error messages.
#   cli_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
BUILD="$(cd "$1" && pwd)"
SRC="$(cd "$2" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cli-XXXXXX")"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BUILD/services/server/achilles-server" --listen=127.0.0.1:0 \
  --data_dir="$WORK/data" --port_file="$WORK/port" --log_level=warning &
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
CTL=("$BUILD/cli/achillesctl" --server="127.0.0.1:$(cat "$WORK/port")")

passed=0
failed=0
# expect STATUS PATTERN -- command...: runs it, checks exit status and that
# stdout+stderr match PATTERN (grep -E).
expect() {
  local want_status="$1" pattern="$2"
  shift 3
  local out status
  out="$("$@" 2>&1)"
  status=$?
  if [ "$status" -eq "$want_status" ] && grep -qE -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $* (status $status, want $want_status, pattern '$pattern')"
    echo "$out" | head -20 | sed 's/^/    /'
  fi
}

expect 2 "no command given" -- "${CTL[@]}"
expect 2 "unknown or incomplete command" -- "${CTL[@]}" frobnicate
expect 0 "created patient anna" -- "${CTL[@]}" patient upsert anna --name "Anna K"
expect 0 "updated patient anna" -- "${CTL[@]}" patient upsert anna
expect 1 "INVALID_ARGUMENT: patient.patient_id" -- "${CTL[@]}" patient upsert "bad id"
expect 1 "NOT_FOUND: patient 'ghost' not found" -- "${CTL[@]}" patient get ghost
expect 0 "appended 5 event" -- "${CTL[@]}" events append anna "$SRC/examples/anna.json"
expect 0 "5 already stored" -- "${CTL[@]}" events append anna "$SRC/examples/anna.json"
echo '{"events": [{"event_id": "x", "occurredAt": "nope"}]}' > "$WORK/bad.json"
expect 2 "not an AppendEventsRequest" -- "${CTL[@]}" events append anna "$WORK/bad.json"
expect 2 "cannot read" -- "${CTL[@]}" events append anna "$WORK/missing.json"
expect 1 "pain_during: 11 is outside 0-10" -- "${CTL[@]}" events add anna --id p-1 --during 11
expect 2 "--activity: unknown activity" -- "${CTL[@]}" events add anna --id p-1 --during 3 --activity flying
expect 0 "appended 1 event" -- "${CTL[@]}" events add anna --id p-1 --during 3 --activity walking
expect 0 "run-3 .*during 1/10" -- "${CTL[@]}" events list anna
expect 0 "Rule D4" -- "${CTL[@]}" evaluate anna
# Anna's runs are from January: today the evaluation says so before any card.
expect 0 "^Confidence: LOW \(INCOMPLETE\)" -- "${CTL[@]}" evaluate anna
expect 0 "Reassess before progressing" -- "${CTL[@]}" evaluate anna
expect 0 "Progress to walk-jog L2" -- "${CTL[@]}" evaluate anna --as_of=2026-01-10T12:00:00Z
expect 0 '"evaluation_id"' -- "${CTL[@]}" --json evaluate anna
expect 2 "--as_of" -- "${CTL[@]}" evaluate anna --as_of=yesterday
expect 0 "as of 2026-01-08" -- "${CTL[@]}" evaluate anna --as_of=2026-01-08T00:00:00Z
expect 0 "midportion_hsr .*loaded .*enabled" -- "${CTL[@]}" plugins list
expect 0 "disabled return_to_run" -- "${CTL[@]}" plugins disable return_to_run
expect 0 "return_to_run 1.0.0: disabled for this clinic" -- "${CTL[@]}" evaluate anna
expect 1 "NOT_FOUND" -- "${CTL[@]}" plugins enable no_such_plugin
expect 0 "PAIN_MODEL_SILBERNAGEL_5" -- "${CTL[@]}" policy set --pain_model=SILBERNAGEL_5 --reason=test
expect 2 "--pain_model" -- "${CTL[@]}" policy set --pain_model=LOUD
expect 0 "Policy version 2" -- "${CTL[@]}" policy get
expect 1 "FAILED_PRECONDITION: backups are off" -- "${CTL[@]}" backup b1
expect 0 "seeded 20 demo patients" -- "${CTL[@]}" --clinic=demo caseload seed-demo --count=20
expect 0 "new +20" -- "${CTL[@]}" --clinic=demo caseload reevaluate
expect 0 "unchanged +20" -- "${CTL[@]}" --clinic=demo caseload reevaluate --dry_run
expect 0 "PATIENT +TOP" -- "${CTL[@]}" --clinic=demo caseload worklist
expect 2 "needs --dry_run" -- "${CTL[@]}" --clinic=demo caseload reevaluate --pain_model=SILBERNAGEL_5
expect 0 "erased patient anna: 6 events" -- "${CTL[@]}" patient delete anna
expect 1 "NOT_FOUND" -- "${CTL[@]}" evaluate anna

kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
expect 1 "UNAVAILABLE" -- "${CTL[@]}" --timeout_s=2 patient get anna

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
