#!/usr/bin/env bash
# Proves a physio's plugin builds out of tree against the SDK installed on
# its own (cmake --install --component sdk: no server built or installed),
# passes its scenarios in the installed harness, is renamed by one variable,
# and loads into the *installed* server next to the bundled plugins (no
# protobuf descriptor-pool clash).
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

echo "== install only the SDK's components into $WORK/sdk"
# What the achilles-plugin-sdk-dev package and its dependencies hold
# (cmake/Packaging.cmake): the model library, the bundled plugins, the SDK.
for component in runtime plugins sdk; do
  cmake --install "$BUILD_DIR" --component "$component" --prefix "$WORK/sdk" \
    >> "$WORK/sdk-install.log"
done
SDK="$WORK/sdk"
test -x "$SDK/bin/achilles-plugin-test"
test -f "$SDK/include/achilles/plugin_abi.h"
test -f "$SDK/include/achilles/features.h"
test -f "$SDK/share/achilles/proto/achilles/v1/plugin.proto"
# The SDK is not the server: no server, worker or server-internal messages.
for absent in bin/achilles-server bin/achilles-plugin-worker bin/achillesctl \
              share/achilles/proto/achilles/internal; do
  if [ -e "$SDK/$absent" ]; then echo "SDK install has $absent"; exit 1; fi
done
if grep -q "WorkerHello\|message Scenario" "$SDK/share/achilles/proto/achilles/v1/plugin.proto"; then
  echo "the public plugin.proto still holds server-internal messages"; exit 1
fi

echo "== build the template out of tree against the SDK alone"
cp -r "$SOURCE_DIR/plugins/template" "$WORK/my_plugin"
cmake -S "$WORK/my_plugin" -B "$WORK/my_plugin/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$SDK" > "$WORK/configure.log"
cmake --build "$WORK/my_plugin/build" > "$WORK/build.log"
SO="$WORK/my_plugin/build/posterior_chain.so"
test -f "$SO"

echo "== installed harness: template scenarios, with and without the bundled plugins"
"$SDK/bin/achilles-plugin-test" --plugin="$SO" "$WORK"/my_plugin/scenarios/*.json
BUNDLED=$(ls "$SDK"/lib/achilles/plugins/*.so | paste -sd, -)
"$SDK/bin/achilles-plugin-test" --plugin="$SO,$BUNDLED" "$WORK"/my_plugin/scenarios/*.json

echo "== renaming: one variable renames target, file and id; scenarios follow"
cp -r "$SOURCE_DIR/plugins/template" "$WORK/renamed"
sed -i 's/^set(PLUGIN_NAME posterior_chain)$/set(PLUGIN_NAME clinic_glute)/' \
  "$WORK/renamed/CMakeLists.txt"
grep -q '^set(PLUGIN_NAME clinic_glute)$' "$WORK/renamed/CMakeLists.txt"
# The package answers to either spelling.
sed -i 's/find_package(AchillesPluginSDK /find_package(AchillesPluginSdk /' \
  "$WORK/renamed/CMakeLists.txt"
grep -q 'find_package(AchillesPluginSdk 0.1 REQUIRED)' "$WORK/renamed/CMakeLists.txt"
cmake -S "$WORK/renamed" -B "$WORK/renamed/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$SDK" > "$WORK/configure-renamed.log"
cmake --build "$WORK/renamed/build" > "$WORK/build-renamed.log"
RENAMED="$WORK/renamed/build/clinic_glute.so"
test -f "$RENAMED"
# Scenarios still naming the old id fail, as the README warns ...
if "$SDK/bin/achilles-plugin-test" --plugin="$RENAMED" \
     "$WORK/renamed/scenarios/runner_gets_glute_work.json" > "$WORK/stale.txt"; then
  echo "a scenario naming the old plugin id passed"; exit 1
fi
grep -q "clinic_glute/glute_work" "$WORK/stale.txt"
# ... and pass once edited.
sed -i 's#posterior_chain/#clinic_glute/#' "$WORK"/renamed/scenarios/*.json
"$SDK/bin/achilles-plugin-test" --plugin="$RENAMED" "$WORK"/renamed/scenarios/*.json

echo "== full install into $WORK/prefix"
cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" > "$WORK/install.log"
PREFIX="$WORK/prefix"

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
