#!/usr/bin/env bash
# run.sh LUGO -- `lugo -trace FILE.json` end to end: a known program's
# trace holds what it must (check.py pingpong), and a program that panics,
# deadlocks, raises in main or calls os.exit still leaves a whole trace.
set -u
lugo=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lugo-trace.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
command -v python3 > /dev/null || { echo "FAIL: python3 is needed to read the trace (apt-get install python3)"; exit 1; }
fail=0

# trace KIND STATUS STDOUT-WANTED -- lugo arguments...
trace() {
  local kind=$1 want=$2 out=$3; shift 3
  local got status
  got=$(timeout -k 10 120 "$lugo" -p 2 -trace "$tmp/$kind.json" "$@" 2> "$tmp/$kind.err" < /dev/null)
  status=$?
  if [ "$status" != "$want" ] || [ "$got" != "$out" ]; then
    echo "FAIL $kind: status $status (want $want), stdout $(printf %q "$got") (want $(printf %q "$out"))"
    head -n 20 "$tmp/$kind.err"
    fail=1
    return
  fi
  python3 "$here/check.py" "$kind" "$tmp/$kind.json" || fail=1
}

trace pingpong 0 done "$here/pingpong.lua"
trace panic 2 "" -e 'go(function() error("boom") end) local c = chan() c:recv()'
trace deadlock 2 "" -e 'local c, d = chan(), chan() go(function() d:send(1) end) c:recv()'
trace mainerror 1 "" -e 'go(function() end) error("main fails")'
trace exit 3 "" -e 'go(function() end) os.exit(3)'
grep -q "panic: (command line):1: boom" "$tmp/panic.err" || { echo "FAIL panic: no panic message"; fail=1; }
grep -q "deadlock" "$tmp/deadlock.err" || { echo "FAIL deadlock: no deadlock message"; fail=1; }
exit $fail
