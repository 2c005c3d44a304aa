#!/usr/bin/env bash
# The Debian packages as an operator meets them: built with CPack from a
# build tree, installed with apt on this machine, the installed server run
# as its own user with the bundled plugins, a plugin built against the
# installed SDK package, then everything purged and checked gone.
#   deploy/package-test.sh [BUILD_DIR]   (root; CI runs it in deploy/test.sh)
# It refuses to run where achilles packages are already installed, since it
# removes them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="$(cd "${1:-build}" && pwd)"
PACKAGES=(libachilles-model0 achilles-protocol-plugins achilles-server
          achillesctl achilles-plugin-sdk-dev)
for p in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
    echo "package-test: $p is installed here already; not touching it"
    exit 1
  fi
done
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  apt-get remove --purge -y -qq "${PACKAGES[@]}" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "package-test: FAIL: $*"; exit 1; }

echo "== cpack"
(cd "$BUILD" && cpack -G DEB -B "$WORK/debs" > "$WORK/cpack.log") ||
  { cat "$WORK/cpack.log"; fail "cpack"; }
ls "$WORK"/debs/*.deb

echo "== apt install"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  "$WORK"/debs/*.deb > "$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log"; fail "apt install"; }
getent passwd achilles > /dev/null || fail "no achilles user"
[ "$(stat -c '%U %a' /var/lib/achilles)" = "achilles 700" ] || fail "/var/lib/achilles not private"
[ "$(stat -c '%U %a' /var/backups/achilles)" = "achilles 700" ] || fail "no backup dir"
test -f /usr/lib/systemd/system/achilles-server.service || fail "no unit"

echo "== the installed server, as its user, with the bundled plugins"
install -d -o achilles -g achilles -m 0700 "$WORK/data"
chmod 755 "$WORK"
setpriv --reuid=achilles --regid=achilles --init-groups /usr/bin/achilles-server --listen=127.0.0.1:0 \
  --data_dir="$WORK/data" --port_file="$WORK/data/port" --log_level=warning &
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/data/port" ] && break; sleep 0.1; done
CTL=(/usr/bin/achillesctl --server="127.0.0.1:$(cat "$WORK/data/port")")
"${CTL[@]}" health | grep -q SERVING || fail "installed server not serving"
plugins="$("${CTL[@]}" --token_file="$WORK/data/operator.token" plugins list)"
for id in midportion_hsr insertional_flat isometric return_to_run; do
  grep -qE "^$id +[^ ]+ +[^ ]+ +loaded " <<<"$plugins" ||
    fail "bundled plugin $id not loaded: $plugins"
done
kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""

echo "== a plugin built against the installed SDK package"
cp -r plugins/template "$WORK/my_plugin"
cmake -S "$WORK/my_plugin" -B "$WORK/my_plugin/build" -G Ninja > "$WORK/sdk.log" &&
  cmake --build "$WORK/my_plugin/build" >> "$WORK/sdk.log" ||
  { cat "$WORK/sdk.log"; fail "template against the SDK package"; }
/usr/bin/achilles-plugin-test --plugin="$WORK/my_plugin/build/posterior_chain.so" \
  "$WORK"/my_plugin/scenarios/*.json > "$WORK/harness.log" ||
  { cat "$WORK/harness.log"; fail "installed harness"; }

echo "== purge"
apt-get remove --purge -y -qq "${PACKAGES[@]}" > "$WORK/purge.log" 2>&1 ||
  { cat "$WORK/purge.log"; fail "purge"; }
for f in /usr/bin/achilles-server /usr/bin/achillesctl /usr/bin/achilles-plugin-worker \
         /usr/lib/achilles /usr/lib/systemd/system/achilles-server.service \
         /usr/include/achilles; do
  [ ! -e "$f" ] || fail "$f left behind"
done
# Patient data is never deleted by the package (deploy/debian/postrm).
test -d /var/lib/achilles || fail "purge deleted /var/lib/achilles"
echo "package-test: 4 packages + SDK installed, served, built against and purged"
