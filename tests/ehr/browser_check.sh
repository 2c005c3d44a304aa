#!/bin/sh
# Loads a clinician report in Debian's headless chromium: the DOM after its
# script ran must hold the chart, the recommendations and the ready mark
# the inline script sets, and the console must show no script error.
# Usage: browser_check.sh REPORT.html SCREENSHOT.png
set -u
html=$1
png=$2
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
browser=$(command -v chromium || command -v chromium-browser)
[ -n "$browser" ] || { echo "chromium not installed"; exit 1; }
flags="--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=$profile --allow-file-access-from-files --enable-logging=stderr --v=0"
dom=$(timeout 60 "$browser" $flags --dump-dom "file://$html" 2>"$profile/log")
status=$?
[ $status -eq 0 ] || { echo "chromium failed ($status)"; cat "$profile/log"; exit 1; }
fail=0
echo "$dom" | grep -q '<svg id="chart"' || { echo "no chart in the DOM"; fail=1; }
echo "$dom" | grep -q 'class="rec ' || { echo "no recommendation in the DOM"; fail=1; }
echo "$dom" | grep -q 'class="ev" id="ev-' || { echo "no plotted event"; fail=1; }
echo "$dom" | grep -Eq 'data-ready="[1-9]' || { echo "inline script did not finish"; fail=1; }
if grep -Ei 'Uncaught|SyntaxError|ReferenceError|TypeError|Refused to' "$profile/log"; then
  echo "script error in the console"; fail=1
fi
timeout 60 "$browser" $flags --hide-scrollbars --window-size=1100,1400 \
  --screenshot="$png" "file://$html" >/dev/null 2>&1 || { echo "no screenshot"; fail=1; }
exit $fail
