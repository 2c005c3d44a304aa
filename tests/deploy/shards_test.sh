#!/usr/bin/env bash
# Three shards behind a real HAProxy (deploy/haproxy): every clinic's data
# lands on exactly one shard, stays there across restarts of the shards and
# the router, and a call that reaches the wrong shard is refused.
#   shards_test.sh BUILD_DIR SOURCE_DIR
# Phase A: shards without --serve_clinics; writes through the router, then
#   each shard is asked directly how many of each clinic's patients it has.
# Phase B: everything restarted, shards with --serve_clinics (production);
#   more writes and a caseload run through the router; the wrong shard
#   refuses a clinic's calls and its tokens.
# Phase C: restarted without the guard again, to count once more.
set -uo pipefail
BUILD="$(cd "$1" && pwd)"
SRC="$(cd "$2" && pwd)"
if ! command -v haproxy >/dev/null || ! command -v openssl >/dev/null; then
  echo "shards_test: haproxy and openssl are required (deploy/setup.sh)"
  exit 1
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/shards-XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0
failed=0
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}
ok() { passed=$((passed + 1)); }

# --- certificates: one CA for the router and the shards (a test shortcut;
# deploy/haproxy/README.md keeps them apart).
make_certs() {
  local d="$WORK/tls"
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj "/CN=test CA" \
    2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" \
    2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$d/ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -CAcreateserial -days 2 -extfile "$d/ext" -out "$d/server.pem" 2>/dev/null
  cat "$d/server.pem" "$d/server.key" > "$d/router.pem"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

declare -A HOME_SHARD=([north]=0 [harbour]=0 [east]=1 [valley]=1 [south]=2)
CLINICS=(north harbour east valley south)
SHARD_PORT=()
SHARD_PID=()

# start_shard I GUARD: GUARD=1 passes --serve_clinics with the shard's
# clinics from the map.
start_shard() {
  local i="$1" guard="$2" port="${SHARD_PORT[$1]:-0}" served=()
  for c in "${CLINICS[@]}"; do
    [ "${HOME_SHARD[$c]}" = "$i" ] && served+=("$c")
  done
  local extra=()
  if [ "$guard" = 1 ]; then
    extra=(--serve_clinics="$(IFS=,; echo "${served[*]}")")
  fi
  rm -f "$WORK/port$i"
  "$BUILD/services/server/achilles-server" --listen="127.0.0.1:$port" \
    --data_dir="$WORK/shard$i" --port_file="$WORK/port$i" \
    --tls_cert_file="$WORK/tls/server.pem" \
    --tls_key_file="$WORK/tls/server.key" --log_level=warning \
    "${extra[@]}" 2>>"$WORK/shard$i.log" &
  SHARD_PID[$i]=$!
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/port$i" ] && break; sleep 0.1; done
  SHARD_PORT[$i]="$(cat "$WORK/port$i")"
}

ROUTER_PORT="$(free_port)"
start_router() {
  ACH_ROUTER_BIND="127.0.0.1:$ROUTER_PORT" ACH_ROUTER_PEM="$WORK/tls/router.pem" \
    ACH_SHARD_CA="$WORK/tls/ca.pem" \
    ACH_CLINIC_MAP="$SRC/deploy/haproxy/clinics.map" \
    ACH_SHARD0="127.0.0.1:${SHARD_PORT[0]}" \
    ACH_SHARD1="127.0.0.1:${SHARD_PORT[1]}" \
    ACH_SHARD2="127.0.0.1:${SHARD_PORT[2]}" \
    haproxy -db -f "$SRC/deploy/haproxy/haproxy.cfg" 2>>"$WORK/haproxy.log" &
  ROUTER_PID=$!
  PIDS+=($!)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$ROUTER_PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "router did not start:"; cat "$WORK/haproxy.log"; exit 1
}

stop_all() {
  for i in 0 1 2; do kill "${SHARD_PID[$i]}" 2>/dev/null; wait "${SHARD_PID[$i]}" 2>/dev/null; done
  kill "$ROUTER_PID" 2>/dev/null; wait "$ROUTER_PID" 2>/dev/null
}

start_all() {
  for i in 0 1 2; do start_shard "$i" "$1"; done
  start_router
}

CTL_BASE=("$BUILD/cli/achillesctl" --tls_ca_file="$WORK/tls/ca.pem")
direct() {  # direct SHARD ARGS...: a call straight to one shard.
  local i="$1"; shift
  "${CTL_BASE[@]}" --server="127.0.0.1:${SHARD_PORT[$i]}" "$@"
}
routed() {  # routed CLINIC ARGS...: a clinic's call through the router.
  local c="$1"; shift
  "${CTL_BASE[@]}" --server="127.0.0.1:$ROUTER_PORT" \
    --token_file="$WORK/tok.$c.${HOME_SHARD[$c]}" --clinic="$c" "$@"
}

# issue_tokens: a token for every clinic on every shard (phase A only, when
# no shard refuses foreign clinics), so each shard can be asked directly.
issue_tokens() {
  for i in 0 1 2; do
    for c in "${CLINICS[@]}"; do
      direct "$i" --token_file="$WORK/shard$i/operator.token" token issue \
        --subject="test-$c" --clinic="$c" --roles=ehr,clinician,clinic-admin \
        > "$WORK/tok.$c.$i" 2>/dev/null || fail "token for $c on shard $i"
    done
  done
}

# write_patients FROM TO: patients pt-<clinic>-N with one pain report each,
# through the router.
write_patients() {
  for c in "${CLINICS[@]}"; do
    for n in $(seq "$1" "$2"); do
      routed "$c" patient upsert "pt-$c-$n" >/dev/null 2>&1 &&
        routed "$c" events add "pt-$c-$n" --id="e$n" --during=2 >/dev/null 2>&1 ||
        fail "write pt-$c-$n through the router"
    done
  done
}

# check_placement WANT: each clinic has WANT patients on its shard, none on
# the others (asked directly, with that shard's token for the clinic).
check_placement() {
  for c in "${CLINICS[@]}"; do
    for i in 0 1 2; do
      local want=0 got
      [ "${HOME_SHARD[$c]}" = "$i" ] && want="$1"
      got="$(direct "$i" --token_file="$WORK/tok.$c.$i" --clinic="$c" \
        patient list 2>&1 | grep -c "pt-$c-")"
      if [ "$got" = "$want" ]; then ok; else
        fail "clinic $c on shard $i: $got patients, want $want"
      fi
    done
  done
}

# expect STATUS PATTERN -- command...
expect() {
  local want="$1" pattern="$2" out status
  shift 3
  out="$("$@" 2>&1)"
  status=$?
  if [ "$status" -eq "$want" ] && grep -qE -- "$pattern" <<<"$out"; then ok; else
    fail "$* (status $status, want $want, pattern '$pattern')"
    echo "$out" | head -5 | sed 's/^/    /'
  fi
}

make_certs
bad="$("$BUILD/services/server/achilles-server" --listen=127.0.0.1:0 \
  --data_dir="$WORK/bad" --serve_clinics="north,No Such" 2>&1)"
if [ $? -ne 0 ] && grep -q -- "--serve_clinics" <<<"$bad"; then ok; else
  fail "a bad --serve_clinics id must stop the server with its name: $bad"
fi
echo "phase A: three shards without the guard, router in front"
start_all 0
issue_tokens
for i in 0 1 2; do
  expect 0 "^SERVING" -- direct "$i" health  # The probe deploy/k8s uses.
done
expect 1 "health check failed: service name unknown" -- direct 0 health no.such.Service
write_patients 1 3
check_placement 3
expect 0 "pain" -- routed east evaluate pt-east-1
expect 1 "FAILED_PRECONDITION: x-clinic-id metadata is required" -- \
  "${CTL_BASE[@]}" --server="127.0.0.1:$ROUTER_PORT" \
  --token_file="$WORK/tok.east.1" patient list
expect 1 "NOT_FOUND: this clinic is not assigned" -- \
  "${CTL_BASE[@]}" --server="127.0.0.1:$ROUTER_PORT" \
  --token_file="$WORK/tok.east.1" --clinic=west patient list
# A clinic whose header names another clinic is refused by the shard.
expect 1 "PERMISSION_DENIED: x-clinic-id 'north'" -- \
  "${CTL_BASE[@]}" --server="127.0.0.1:$ROUTER_PORT" \
  --token_file="$WORK/tok.east.0" --clinic=north patient list

echo "phase B: everything restarted, shards with --serve_clinics"
stop_all
start_all 1
write_patients 4 4
expect 0 "pt-south-4" -- routed south patient list
expect 0 "" -- routed valley caseload reevaluate
# Every clinic's caseload at once, through the router, each on its shard.
: > "$WORK/chain"
for c in "${CLINICS[@]}"; do
  echo "$c 127.0.0.1:$ROUTER_PORT $WORK/tok.$c.${HOME_SHARD[$c]}" >> "$WORK/chain"
done
expect 0 "total \(5 of 5\) +20 " -- "${CTL_BASE[@]}" caseload fanout "$WORK/chain"
expect 0 "^south +4 " -- "${CTL_BASE[@]}" caseload fanout "$WORK/chain"
# A clinic whose token is not valid on its shard fails alone.
echo "east 127.0.0.1:$ROUTER_PORT $WORK/tok.east.0" >> "$WORK/chain"
expect 1 "^east +FAILED UNAUTHENTICATED" -- \
  "${CTL_BASE[@]}" caseload fanout "$WORK/chain"
expect 1 "^total \\(5 of 6\\)" -- "${CTL_BASE[@]}" caseload fanout "$WORK/chain"
echo "north only-two-fields" > "$WORK/bad-chain"
expect 2 "bad-chain:1: want \"CLINIC SERVER TOKEN_FILE\"" -- \
  "${CTL_BASE[@]}" caseload fanout "$WORK/bad-chain"
expect 1 "FAILED_PRECONDITION: clinic 'east' is not served by this shard" -- \
  direct 0 --token_file="$WORK/tok.east.0" --clinic=east patient list
expect 1 "FAILED_PRECONDITION: clinic 'south' is not served by this shard" -- \
  direct 0 --token_file="$WORK/shard0/operator.token" token issue \
  --subject=x --clinic=south --roles=clinician

echo "phase C: restarted without the guard; every clinic still on one shard"
stop_all
start_all 0
check_placement 4

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
