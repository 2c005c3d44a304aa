#!/usr/bin/env bash
# Restore drill, retention, verification, and erasure that survives a
# restore, against real achilles-server and achillesctl processes.
#   backup_test.sh BUILD_DIR
set -uo pipefail
BUILD="$(cd "$1" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/backup-XXXXXX")"
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
  fi
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {  # DATA_DIR
  rm -f "$WORK/port"
  "$BUILD/services/server/achilles-server" --listen=127.0.0.1:0 \
    --data_dir="$1" --port_file="$WORK/port" --log_level=warning \
    --plugin_dir=none --backup_dir="$WORK/backups" --backup_keep=7 \
    --shutdown_drain_ms=0 2>>"$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  BARE=("$BUILD/cli/achillesctl" --server="127.0.0.1:$(cat "$WORK/port")")
  # Tokens live in the store: a restored store knows the ones it was
  # backed up with (both are issued before the first backup).
  OP=("${BARE[@]}" --token_file="$WORK/operator.token")
  CTL=("${BARE[@]}" --token_file="$WORK/clinic.token")
}

passed=0
failed=0
expect() {  # STATUS PATTERN -- command...
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

start_server "$WORK/data"
cp "$WORK/data/operator.token" "$WORK/operator.token"
"${OP[@]}" token issue --subject=backup-test --clinic=default \
  --roles=ehr,clinician,clinic-admin > "$WORK/clinic.token" 2>/dev/null
CTL_OFF=("$BUILD/cli/achillesctl")

"${CTL[@]}" patient upsert qx-anna --name "Quilla Anna" >/dev/null
"${CTL[@]}" patient upsert bob >/dev/null
"${CTL[@]}" events add bob --id=r1 --at=2026-01-05 --during=2 >/dev/null
"${CTL[@]}" events add qx-anna --id=r1 --at=2026-01-05 --during=3 >/dev/null

# Retention: keep 2 of three backups.
expect 0 "backup 1: [0-9]+ bytes" -- "${OP[@]}" backup create --keep=2
expect 0 "backup 2:" -- "${OP[@]}" backup create --keep=2
expect 0 "backup 3:" -- "${OP[@]}" backup create --keep=2
expect 0 "^2 .*
^3 " -- "${CTL_OFF[@]}" backup list --backup_dir="$WORK/backups"
expect 1 "PERMISSION_DENIED" -- "${CTL[@]}" backup create
expect 1 "name: 'incremental' is the backup directory's own" -- "${OP[@]}" backup incremental

# The patient is erased after backup 3 was taken; then more work and backup 4.
expect 0 "erased patient qx-anna" -- "${CTL[@]}" patient delete qx-anna
"${CTL[@]}" patient upsert carl >/dev/null
expect 0 "backup 4:" -- "${OP[@]}" backup create
# The erasure log holds a pseudonym, never the id or name.
expect 0 "^clean$" -- bash -c "grep -qiE 'qx-anna|quilla' '$WORK/backups/erasures.log' && echo leaked || echo clean"
expect 0 "^1$" -- bash -c "wc -l < '$WORK/backups/erasures.log'"
expect 0 "backup 3: OK
backup 4: OK" -- "${CTL_OFF[@]}" backup verify --backup_dir="$WORK/backups"
stop_server

# Restore drill: backup 3 (taken before the erasure) into a new dir.
expect 2 "needs --data_dir" -- "${CTL_OFF[@]}" backup restore --backup_dir="$WORK/backups"
expect 1 "already holds a store" -- "${CTL_OFF[@]}" backup restore --backup_dir="$WORK/backups" --data_dir="$WORK/data"
expect 1 "no backup 1 in" -- "${CTL_OFF[@]}" backup restore --backup_dir="$WORK/backups" --backup_id=1 --data_dir="$WORK/nope"
expect 0 "restored backup 3 .* erased again 1 patient" -- "${CTL_OFF[@]}" backup restore --backup_dir="$WORK/backups" --backup_id=3 --data_dir="$WORK/restored"
start_server "$WORK/restored"
expect 1 "NOT_FOUND" -- "${CTL[@]}" patient get qx-anna
expect 0 "^bob" -- "${CTL[@]}" patient list
expect 0 "2026-01-05" -- "${CTL[@]}" events list bob
expect 1 "NOT_FOUND" -- "${CTL[@]}" patient get carl
# The secret came back with it: the audit chain still verifies.
expect 0 "audit trail intact" -- "${OP[@]}" audit verify
stop_server

# The newest backup restores too (carl is there, anna is not).
expect 0 "restored backup 4 .* erased again 0 patient" -- "${CTL_OFF[@]}" backup restore --backup_dir="$WORK/backups" --data_dir="$WORK/restored2"
start_server "$WORK/restored2"
expect 0 "patient carl" -- "${CTL[@]}" patient get carl
expect 1 "NOT_FOUND" -- "${CTL[@]}" patient get qx-anna
stop_server

# A damaged backup file is found by verify.
victim="$(find "$WORK/backups/incremental/shared_checksum" "$WORK/backups/incremental/shared" -type f -name '*.sst' 2>/dev/null | head -1)"
if [ -n "$victim" ]; then
  chmod u+w "$victim"
  printf 'XXXXXXXX' | dd of="$victim" bs=1 seek=10 conv=notrunc 2>/dev/null
  expect 1 "is damaged" -- "${CTL_OFF[@]}" backup verify --backup_dir="$WORK/backups"
else
  failed=$((failed + 1)); echo "FAIL: no shared table file to damage"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
