#!/usr/bin/env bash
# run.sh — run one lugo script and check it against its expectations.
#
# Usage:
#   tests/lua/run.sh LUGO NAME                 # tests/lua/NAME.lua, expectations in tests/lua/
#   tests/lua/run.sh LUGO path/to/x.lua [EXPECTDIR]
#                                              # any script; expectations in EXPECTDIR
#                                              # (default: the script's own directory)
#   e.g. tests/lua/run.sh build/lugo chan_close
#        tests/lua/run.sh build/lugo scripts/hello.lua tests/lua/scripts
#
# LUGO is the lugo binary (a path, or a command name found on PATH).
# The script is run from its own directory as `LUGO <args> x.lua`, with stdin
# from /dev/null and a 120 s timeout, so chunk names (and therefore error
# messages) are always `x.lua:LINE:`.
#
# Expectation files, all next to each other in EXPECTDIR, named after the script:
#   x.out     required: exact expected stdout (byte for byte)
#   x.err     optional: every non-empty line must occur as a substring of stderr
#   x.status  optional: expected exit status (default 0)
#   x.args    optional: one line of extra lugo options, placed before the script
#             (word-split by the shell, e.g. `-p 1`)
#
# Exit status: 0 on match; 1 on any mismatch (a diff / the missing lines are
# printed); 2 on a usage error or missing files.
set -u

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage

lugo=$1
test=$2
here=$(cd "$(dirname "$0")" && pwd)

case "$test" in
  *.lua) script=$test ;;
  *)     script=$here/$test.lua ;;
esac
[ -f "$script" ] || { echo "run.sh: no such script: $script" >&2; exit 2; }
scriptdir=$(cd "$(dirname "$script")" && pwd)
base=$(basename "$script" .lua)
expdir=${3:-$scriptdir}
[ -d "$expdir" ] || { echo "run.sh: no such directory: $expdir" >&2; exit 2; }
expdir=$(cd "$expdir" && pwd)

# A relative path to the binary must survive the cd below.
case "$lugo" in
  */*) lugo=$(cd "$(dirname "$lugo")" && pwd)/$(basename "$lugo") ;;
esac

exp_out=$expdir/$base.out
[ -f "$exp_out" ] || { echo "run.sh: missing $exp_out" >&2; exit 2; }
exp_status=0
[ -f "$expdir/$base.status" ] && exp_status=$(tr -d ' \t\r\n' < "$expdir/$base.status")
args=()
[ -f "$expdir/$base.args" ] && read -r -a args < "$expdir/$base.args"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lugo-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

(cd "$scriptdir" && exec timeout -k 10 120 "$lugo" "${args[@]}" "$base.lua") \
  > "$tmp/stdout" 2> "$tmp/stderr" < /dev/null
status=$?

fail=0
what="$base (${args[*]:+${args[*]} }$base.lua)"
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "FAIL $what: timed out after 120 s (status $status)"
  fail=1
elif [ "$status" != "$exp_status" ]; then
  echo "FAIL $what: exit status $status, expected $exp_status"
  fail=1
fi

if ! cmp -s "$exp_out" "$tmp/stdout"; then
  echo "FAIL $what: stdout differs (--- expected, +++ actual):"
  diff -u "$exp_out" "$tmp/stdout" | head -n 60
  fail=1
fi

if [ -f "$expdir/$base.err" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    [ -z "$line" ] && continue
    if ! grep -qF -- "$line" "$tmp/stderr"; then
      echo "FAIL $what: stderr lacks: $line"
      fail=1
    fi
  done < "$expdir/$base.err"
fi

if [ "$fail" -ne 0 ]; then
  echo "--- stderr (first 40 lines):"
  head -n 40 "$tmp/stderr"
  exit 1
fi
echo "ok   $what"
exit 0
