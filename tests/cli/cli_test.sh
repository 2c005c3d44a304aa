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
BARE=("$BUILD/cli/achillesctl" --server="127.0.0.1:$(cat "$WORK/port")")
OP=("${BARE[@]}" --token_file="$WORK/data/operator.token")
# The operator issues the clinic's token; everything else runs as the clinic.
"${OP[@]}" token issue --subject=cli-test --clinic=default \
  --roles=ehr,clinician,clinic-admin > "$WORK/clinic.token" 2>/dev/null
"${OP[@]}" token issue --subject=demo --clinic=demo \
  --roles=ehr,clinician,clinic-admin > "$WORK/demo.token" 2>/dev/null
CTL=("${BARE[@]}" --token_file="$WORK/clinic.token")
DEMO=("${BARE[@]}" --token_file="$WORK/demo.token")

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
# Access: no token, a revoked token, the wrong role, another clinic.
expect 1 "UNAUTHENTICATED: no credentials" -- "${BARE[@]}" patient list
expect 1 "PERMISSION_DENIED" -- "${OP[@]}" patient list
expect 1 "PERMISSION_DENIED: x-clinic-id 'demo'" -- "${CTL[@]}" --clinic=demo patient list
expect 0 "clinic default +roles ehr,clinician,clinic-admin" -- "${OP[@]}" token list
"${OP[@]}" token issue --subject=temp --clinic=default --roles=clinician > "$WORK/temp.token" 2>/dev/null
TEMP_ID="$(cut -d. -f2 "$WORK/temp.token")"
expect 0 "revoked $TEMP_ID" -- "${OP[@]}" token revoke "$TEMP_ID"
expect 1 "UNAUTHENTICATED: bearer token has been revoked" -- "${BARE[@]}" --token_file="$WORK/temp.token" patient list
expect 2 "--roles" -- "${OP[@]}" token issue --subject=x --roles=king
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
expect 1 "FAILED_PRECONDITION: backups are off" -- "${OP[@]}" backup b1
expect 1 "PERMISSION_DENIED" -- "${CTL[@]}" backup b1
expect 0 "seeded 20 demo patients" -- "${DEMO[@]}" caseload seed-demo --count=20
expect 0 "new +20" -- "${DEMO[@]}" caseload reevaluate
expect 0 "unchanged +20" -- "${DEMO[@]}" caseload reevaluate --dry_run
expect 0 "PATIENT +TOP" -- "${DEMO[@]}" caseload worklist
expect 2 "needs --dry_run" -- "${DEMO[@]}" caseload reevaluate --pain_model=SILBERNAGEL_5
expect 0 "erased patient anna: 6 events" -- "${CTL[@]}" patient delete anna
expect 1 "NOT_FOUND" -- "${CTL[@]}" evaluate anna
# The audit trail: who did what, refusals included, chain intact, no ids.
expect 0 "PERMISSION_DENIED +achilles.v1.PatientService/ListPatients" -- "${OP[@]}" audit list --limit=1000
expect 0 "OK +achilles.v1.PatientService/DeletePatient +cli-test@default" -- "${OP[@]}" audit list --limit=1000
expect 0 "audit trail intact" -- "${OP[@]}" audit verify
expect 0 "exported [0-9]+ entries" -- "${OP[@]}" audit export "$WORK/audit.jsonl"
if grep -q '"anna"' "$WORK/audit.jsonl"; then
  failed=$((failed + 1)); echo "FAIL: the audit export names the patient"
else
  passed=$((passed + 1))
fi
expect 1 "PERMISSION_DENIED" -- "${CTL[@]}" audit verify

# CLI polish (issue 11, item 7).
# Lists are one JSON document however many pages (1,000 patients a page).
"${OP[@]}" token issue --subject=big --clinic=big --roles=ehr,clinician \
  > "$WORK/big.token" 2>/dev/null
BIG=("${BARE[@]}" --token_file="$WORK/big.token")
expect 0 "seeded 1001 demo patients" -- "${BIG[@]}" caseload seed-demo --count=1001 --events_per_patient=3
expect 0 "^1001$" -- bash -c '"$@" --json patient list | python3 -c "import json,sys; print(len(json.load(sys.stdin)[\"patients\"]))"' _ "${BIG[@]}"
# Worklist paging: the next page's command is printed whole, and works.
expect 0 "next page: achillesctl caseload worklist --page_size=2 --page_token=" -- "${DEMO[@]}" caseload worklist --page_size=2
NEXT="$("${DEMO[@]}" caseload worklist --page_size=2 | sed -n 's/.*--page_token=//p')"
expect 0 "PATIENT +TOP" -- "${DEMO[@]}" caseload worklist --page_size=2 --page_token="$NEXT"
expect 1 "INVALID_ARGUMENT.*page_token" -- "${DEMO[@]}" caseload worklist --page_token=forged
# Per-command help: the synopsis and that command's flags, no flag dump.
expect 0 "events add ID --id=EV" -- "${CTL[@]}" events add --help
expect 0 "--changed_by  policy set: who made the change" -- "${CTL[@]}" policy set --help
expect 0 "^clean$" -- bash -c '"$@" patient --help 2>&1 | grep -q "No flags matched" && echo noisy || echo clean' _ "${CTL[@]}"
# Flags and arguments are checked per command.
expect 2 "--dry_run does not apply to 'patient list'" -- "${CTL[@]}" patient list --dry_run
expect 2 "patient get: takes 1 argument\(s\), got 2 \(unexpected 'extra'\)" -- "${CTL[@]}" patient get anna extra
expect 2 "patient: unknown subcommand 'frob'" -- "${CTL[@]}" patient frob
# The server address from the environment.
expect 0 "anna|^$" -- env ACHILLES_SERVER="127.0.0.1:$(cat "$WORK/port")" \
  "$BUILD/cli/achillesctl" --token_file="$WORK/clinic.token" patient list
# Dates as YYYY-MM-DD as well as RFC 3339; anything else names both forms.
"${CTL[@]}" patient upsert dated >/dev/null 2>&1
expect 0 "." -- "${CTL[@]}" events add dated --id=d1 --at=2026-01-05 --during=2
expect 0 "2026-01-05" -- "${CTL[@]}" events list dated --from=2026-01-01 --to=2026-02-01
expect 2 "neither an RFC 3339 time .* nor a date \(2026-11-28\)" -- "${CTL[@]}" evaluate dated --as_of=2026-13-45
expect 2 "--since: .*neither" -- "${DEMO[@]}" caseload reevaluate --since=yesterday
# policy set records who changed it.
expect 0 "changed by: +alice" -- "${CTL[@]}" policy set --pain_model=SILBERNAGEL_5 --reason=audit --changed_by=alice
# Progress goes to stderr when stdout is not a terminal: stdout holds the result.
expect 0 "^Run " -- bash -c '"$@" caseload reevaluate --dry_run 2>/dev/null | grep -v progress | grep -m1 "^Run "' _ "${DEMO[@]}"
expect 0 "^clean$" -- bash -c '"$@" caseload reevaluate --dry_run 2>/dev/null | grep -q progress && echo noisy || echo clean' _ "${DEMO[@]}"

kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
# A server that is not there: a hint naming the address, exit status 3.
expect 3 "hint: cannot reach the server at 127.0.0.1:[0-9]+" -- "${CTL[@]}" --timeout_s=2 patient get anna

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
