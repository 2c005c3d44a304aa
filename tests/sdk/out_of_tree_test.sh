#!/usr/bin/env bash
# Proves a physio's plugin builds out of tree against the *installed* SDK,
# passes its scenarios in the harness, and loads into the *installed* server
# next to the bundled plugins (no protobuf descriptor-pool clash).
#   out_of_tree_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD_DIR="$(cd "$1" && pwd)"
SOURCE_DIR="$(cd "$2" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/oot-XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== install into $WORK/prefix"
cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" > "$WORK/install.log"
PREFIX="$WORK/prefix"

echo "== build the template out of tree"
cp -r "$SOURCE_DIR/plugins/template" "$WORK/my_plugin"
cmake -S "$WORK/my_plugin" -B "$WORK/my_plugin/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$PREFIX" > "$WORK/configure.log"
cmake --build "$WORK/my_plugin/build" > "$WORK/build.log"
SO="$WORK/my_plugin/build/posterior_chain.so"
test -f "$SO"

echo "== harness: template scenarios, with and without the bundled plugins"
"$PREFIX/bin/achilles-plugin-test" --plugin="$SO" "$WORK"/my_plugin/scenarios/*.json
BUNDLED=$(ls "$PREFIX"/lib/achilles/plugins/*.so | paste -sd, -)
"$PREFIX/bin/achilles-plugin-test" --plugin="$SO,$BUNDLED" "$WORK"/my_plugin/scenarios/*.json

echo "== installed server loads it next to the bundled plugins"
PLUGINS="$WORK/plugins"
mkdir -p "$PLUGINS"
cp "$PREFIX"/lib/achilles/plugins/*.so "$PLUGINS/"
"$PREFIX/bin/achilles-server" --listen=127.0.0.1:0 --data_dir="$WORK/data" \
  --plugin_dir="$PLUGINS" --port_file="$WORK/port" --log_level=warning &
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
BARE=("$PREFIX/bin/achillesctl" --server="127.0.0.1:$(cat "$WORK/port")")
OP=("${BARE[@]}" --token_file="$WORK/data/operator.token")
"${OP[@]}" token issue --subject=physio --clinic=default \
  --roles=ehr,clinician,clinic-admin > "$WORK/clinic.token"
CTL=("${BARE[@]}" --token_file="$WORK/clinic.token")

# Hot-load: the server is already running without the plugin.
install -m 0644 "$SO" "$PLUGINS/posterior_chain.so"
"${OP[@]}" plugins reload | tee "$WORK/reload.txt"
grep -q "added: 1" "$WORK/reload.txt"
"${CTL[@]}" plugins list | tee "$WORK/list.txt"
grep -q "posterior_chain .*loaded" "$WORK/list.txt"
test "$(grep -c ' loaded ' "$WORK/list.txt")" -eq 5

"${CTL[@]}" patient upsert p1 > /dev/null
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat > "$WORK/events.json" <<JSON
{"events": [
  {"event_id": "f1", "occurred_at": "$NOW", "finding": {"location": "LOCATION_MIDPORTION", "tear_ruled_out": true}},
  {"event_id": "r1", "occurred_at": "$NOW", "run_session": {"duration_minutes": 30, "distance_km": 5, "response": {"pain_during": 2}}}
]}
JSON
"${CTL[@]}" events append p1 "$WORK/events.json"
"${CTL[@]}" evaluate p1 | tee "$WORK/eval.txt"
grep -q "From: posterior_chain 1.0.0" "$WORK/eval.txt"
grep -q "posterior_chain 1.0.0: ok" "$WORK/eval.txt"
echo "out-of-tree plugin: OK"
