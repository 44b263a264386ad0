#!/usr/bin/env bash
# run_all.sh — run every Lua test and example through run.sh (a convenience
# for running by hand; ctest calls run.sh once per test).
#
# Usage:
#   tests/lua/run_all.sh LUGO            # all tests/lua/*.lua and scripts/*.lua
#   tests/lua/run_all.sh LUGO NAME...    # only these (test names, or paths to .lua)
#
# A test is tests/lua/NAME.lua with tests/lua/NAME.out; an example is
# scripts/NAME.lua with tests/lua/scripts/NAME.out. Exit status: the number
# of failures (capped at 100).
set -u
[ $# -ge 1 ] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
lugo=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

items=()
if [ $# -gt 0 ]; then
  items=("$@")
else
  for f in "$here"/*.lua; do
    [ -f "${f%.lua}.out" ] && items+=("$(basename "$f" .lua)")
  done
  for f in "$root"/scripts/*.lua; do
    [ -f "$here/scripts/$(basename "$f" .lua).out" ] && items+=("$f")
  done
fi

pass=0; failed=()
for it in "${items[@]}"; do
  case "$it" in
    "$root"/scripts/*.lua|scripts/*.lua) set -- "$it" "$here/scripts" ;;
    *) set -- "$it" ;;
  esac
  if "$here/run.sh" "$lugo" "$@"; then
    pass=$((pass + 1))
  else
    failed+=("$it")
  fi
done

echo "passed: $pass, failed: ${#failed[@]}"
for f in "${failed[@]}"; do echo "  FAILED: $f"; done
n=${#failed[@]}
[ "$n" -gt 100 ] && n=100
exit "$n"
