#!/usr/bin/env bash
# run.sh LUGO DIR/NAME.lua -- runs a race-detector test program
# LUGO_RACE_ITERS times (default 20) as `LUGO -race -p 2 NAME.lua` from its
# directory, stdin /dev/null, and checks every run:
#   racy/NAME.lua: exit status 66, stderr holds "WARNING: DATA RACE" and
#                  every (non-empty) line of NAME.expect as a substring;
#   free/NAME.lua: exit status 0, stdout equals NAME.out exactly, stderr
#                  does not contain "DATA RACE".
# The first failing run is described (run number, what differed, stderr)
# and the script exits 1; otherwise it prints one PASS line and exits 0.
set -u
if [ $# -ne 2 ]; then
  echo "usage: $0 LUGO DIR/NAME.lua" >&2
  exit 2
fi
lugo=$1
prog=$2
case $lugo in /*) ;; *) lugo=$(cd "$(dirname "$lugo")" && pwd)/$(basename "$lugo") ;; esac
dir=$(cd "$(dirname "$prog")" && pwd)
base=$(basename "$prog")
name=${base%.lua}
kind=$(basename "$dir")
iters=${LUGO_RACE_ITERS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case $kind in
  racy)
    if [ ! -f "$dir/$name.expect" ]; then
      echo "FAIL $kind/$name: missing $name.expect"; exit 1
    fi ;;
  free)
    if [ ! -f "$dir/$name.out" ]; then
      echo "FAIL $kind/$name: missing $name.out"; exit 1
    fi ;;
  *)
    echo "FAIL $name: $dir is neither racy/ nor free/"; exit 1 ;;
esac

fail() {  # fail RUN WHY
  echo "FAIL $kind/$name (run $1 of $iters): $2"
  echo "--- exit status: $status"
  echo "--- stdout:"
  cat "$tmp/out"
  echo "--- stderr:"
  cat "$tmp/err"
  echo "---"
  exit 1
}

for ((i = 1; i <= iters; i++)); do
  (cd "$dir" && timeout 120 "$lugo" -race -p 2 "$base" \
     < /dev/null > "$tmp/out" 2> "$tmp/err")
  status=$?
  if [ "$kind" = racy ]; then
    [ "$status" -eq 66 ] || fail "$i" "exit status $status, want 66"
    [ -s "$tmp/err" ] || fail "$i" "stderr is empty (no race report)"
    grep -qF "WARNING: DATA RACE" "$tmp/err" ||
      fail "$i" "stderr lacks 'WARNING: DATA RACE'"
    while IFS= read -r want || [ -n "$want" ]; do
      [ -z "$want" ] && continue
      grep -qF -- "$want" "$tmp/err" ||
        fail "$i" "stderr lacks expected line: $want"
    done < "$dir/$name.expect"
  else
    [ "$status" -eq 0 ] || fail "$i" "exit status $status, want 0"
    if ! cmp -s "$tmp/out" "$dir/$name.out"; then
      diff -u "$dir/$name.out" "$tmp/out" > "$tmp/diff"
      fail "$i" "stdout differs from $name.out:
$(cat "$tmp/diff")"
    fi
    if grep -qF "DATA RACE" "$tmp/err"; then
      fail "$i" "stderr reports a DATA RACE"
    fi
  fi
done
echo "PASS $kind/$name ($iters runs)"
exit 0
