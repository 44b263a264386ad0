#!/usr/bin/env bash
# html.sh LUGO -- `lugo -trace FILE.html` end to end: the page is whole,
# needs nothing from the network, and headless Chromium draws it without
# an error (the page marks its body data-rendered="ok" once drawn, and
# data-error on any uncaught error), also when its #selftest drives the
# zooming, panning, hovering and picking.  Chromium is part of the set-up
# (README), so its absence is a failure, not a skip.
set -u
lugo=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lugo-trace-html.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "FAIL: chromium is not installed: the HTML trace cannot be checked (apt-get install chromium, see README)"
  exit 1
fi
fail=0

out=$(timeout -k 10 120 "$lugo" -p 2 -trace "$tmp/t.html" "$here/pingpong.lua" 2>&1)
[ "$out" = done ] || { echo "FAIL: lugo said $(printf %q "$out")"; exit 1; }
head -c 15 "$tmp/t.html" | grep -q '^<!DOCTYPE html>' || { echo "FAIL: not an HTML page"; fail=1; }
grep -q '@TRACE_JSON@' "$tmp/t.html" && { echo "FAIL: the trace was not put into the page"; fail=1; }
grep -qiE '<(link|img|iframe)|[[:space:]]src=|@import|url\([^#]' "$tmp/t.html" &&
  { echo "FAIL: the page loads something from elsewhere"; fail=1; }

# headless Chromium: the DOM after the page's script ran, and its console
dom() {  # dom URL NAME
  timeout -k 10 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 --dump-dom "$1" \
    > "$tmp/$2.dom" 2> "$tmp/$2.log"
}
dom "file://$tmp/t.html" plain
dom "file://$tmp/t.html#selftest" selftest
for k in plain selftest; do
  if ! grep -q 'data-rendered="ok"' "$tmp/$k.dom"; then
    echo "FAIL ($k): the page did not finish drawing"
    grep -o 'data-error="[^"]*"' "$tmp/$k.dom"
    fail=1
  fi
  if grep -q 'data-error=' "$tmp/$k.dom"; then
    echo "FAIL ($k): $(grep -o 'data-error="[^"]*"' "$tmp/$k.dom")"
    fail=1
  fi
  if grep -q ':CONSOLE' "$tmp/$k.log"; then
    echo "FAIL ($k): console messages:"
    grep ':CONSOLE' "$tmp/$k.log" | head -n 10
    fail=1
  fi
done
# how many boxes are drawn depends on timing (runs thinner than 2 px are
# drawn as one box), so ask for some, and for every goroutine in the data
n=$(grep -o 'data-slices="[0-9]*"' "$tmp/plain.dom" | grep -o '[0-9][0-9]*')
[ "${n:-0}" -ge 1 ] || { echo "FAIL: no slices drawn"; fail=1; }
grep -q '4 goroutines' "$tmp/plain.dom" ||
  { echo "FAIL: the page does not show the program's 4 goroutines"; fail=1; }
st=$(grep -o 'data-selftest="[^"]*"' "$tmp/selftest.dom")
[ "$st" = 'data-selftest="ok"' ] || { echo "FAIL: selftest: ${st:-no result}"; fail=1; }
[ $fail = 0 ] && echo "ok   html: drawn ($n slices), selftest passed, no console messages"
exit $fail
