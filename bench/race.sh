#!/usr/bin/env bash
# bench/race.sh [LUGO_BINARY]
#
# What the race detector costs, as ratios (the machines are small and
# noisy: single timings mean little).  Prints a markdown report on stdout,
# progress on stderr.
#
#   off  the hooks' one branch: lugo (default build/lugo) against a build
#        with the hooks compiled out (cmake -DLUGO_NORACE=ON, made in
#        build-norace/), both without -race, runs interleaved; ratio > 1
#        is the cost
#   on   lugo -race against lugo, beside Go's `-race` against Go
#   mem  bytes per shared-table field under -race (peak RSS difference
#        over the number of fields)
#
# Environment: REPS=7 runs per configuration (median), BENCH_TIMEOUT=60,
# GO=go.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
LUGO=${1:-$root/build/lugo}
REPS=${REPS:-7}
TIMEOUT=${BENCH_TIMEOUT:-60}
GO=${GO:-go}
NORACE_DIR=$root/build-norace

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lugorace.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log() { printf '%s\n' "$*" >&2; }

[ -x "$LUGO" ] || { log "no lugo binary at $LUGO"; exit 2; }
log "building lugo with the race hooks compiled out ($NORACE_DIR)..."
cmake -S "$root" -B "$NORACE_DIR" -DLUGO_NORACE=ON >/dev/null &&
  cmake --build "$NORACE_DIR" -j2 --target lugo >/dev/null || { log "norace build failed"; exit 1; }
NORACE=$NORACE_DIR/lugo

have_go=0
if command -v "$GO" >/dev/null 2>&1; then
  log "building Go benchmarks, plain and -race..."
  have_go=1
  for b in pingpong fanin shget shset shcontend shlocked mutex; do
    (cd "$here/go" && GOPROXY=off "$GO" build -o "$tmp/go_$b" "$b.go" &&
       GOPROXY=off "$GO" build -race -o "$tmp/gorace_$b" "$b.go") 2>"$tmp/gobuild" ||
      { log "go build $b failed: $(head -c 200 "$tmp/gobuild")"; have_go=0; }
  done
fi

# one run: the value of the last "name value unit" line, or nothing
value() {
  timeout -k 5 "$TIMEOUT" "$@" 2>/dev/null </dev/null |
    awk 'NF >= 3 { v = $2 } END { if (v != "") print v }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }

# pair LABEL "CMD A" "CMD B": runs A and B alternately REPS times; prints
# "medianA medianB ratio(B/A)"
pair() {
  local i a b
  : >"$tmp/a"; : >"$tmp/b"
  for ((i = 0; i < REPS; i++)); do
    a=$(eval "$2"); b=$(eval "$3")
    [ -n "$a" ] && echo "$a" >>"$tmp/a"
    [ -n "$b" ] && echo "$b" >>"$tmp/b"
  done
  a=$(median <"$tmp/a"); b=$(median <"$tmp/b")
  if [ -z "$a" ] || [ -z "$b" ]; then echo "ERR ERR -"; return; fi
  echo "$a $b $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')"
  log "  $1: $a -> $b"
}

echo "## Race detector cost ($(date -u +%Y-%m-%d), $(nproc) CPUs, REPS=$REPS, medians)"
echo
echo "### Off: the hooks' branch (no -race), build-norace -> build"
echo
echo "| benchmark | -p | hooks out | hooks in | ratio |"
echo "|---|---|---|---|---|"
for r in "pingpong|1|ns/op" "pingpong|2|ns/op" "fanin|2|Mmsg/s" "shget|1|ns/op" \
         "shset|1|ns/op" "shcontend|2|ns/op" "mutex|1|ns/op" "shlocked|2|ns/op"; do
  IFS='|' read -r b p unit <<<"$r"
  log "[off $b -p $p]"
  read -r x y q <<<"$(pair "$b" "value $NORACE -p $p $here/lugo/$b.lua" "value $LUGO -p $p $here/lugo/$b.lua")"
  [ "$unit" = "Mmsg/s" ] && q=$(awk -v a="$x" -v b="$y" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')
  echo "| $b | $p | $x $unit | $y $unit | $q |"
done
echo
echo "(fan-in is a rate: its ratio is inverted so that > 1 is a cost everywhere.)"
echo
echo "### Off, in instructions (callgrind: deterministic, unlike the clock)"
echo
echo "Whole-program counts still move by ~1% between any two runs (Lua seeds"
echo "its string hashes per state, so its table lookups differ); the hooks"
echo "themselves are in lugo's own C (vm/, stdlib/), counted separately."
echo
if command -v valgrind >/dev/null 2>&1; then
  echo "| benchmark (-p 1) | all, hooks out | all, hooks in | lugo's C, hooks out | lugo's C, hooks in | hooks' cost (of all) |"
  echo "|---|---|---|---|---|---|"
  for r in "pingpong|20000" "fanin|100000" "shget|200000" "shset|200000" "mutex|200000"; do
    IFS='|' read -r b n <<<"$r"
    log "[callgrind $b]"
    for v in norace hooked; do
      bin=$NORACE; [ $v = hooked ] && bin=$LUGO
      valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$v" "$bin" -p 1 "$here/lugo/$b.lua" "$n" \
        >/dev/null 2>"$tmp/cg.$v.err"
      callgrind_annotate --auto=no --threshold=100 "$tmp/cg.$v" 2>/dev/null |
        awk '/^ *[0-9,]+ \(/ { n = $1; gsub(",", "", n)  # paths: absolute, or
             for (i = 2; i <= NF; i++)                    # relative to the cwd
               if ($i ~ /^(.*\/)?(vm|stdlib)\/[^ ]*\.[ch]:/) { own += n; break } }
             END { print own + 0 }' >"$tmp/own.$v"
    done
    x=$(awk '/^summary:/ { print $2 }' "$tmp/cg.norace"); y=$(awk '/^summary:/ { print $2 }' "$tmp/cg.hooked")
    ox=$(cat "$tmp/own.norace"); oy=$(cat "$tmp/own.hooked")
    echo "| $b ($n) | $x | $y | $ox | $oy | $(awk -v a="$x" -v ox="$ox" -v oy="$oy" 'BEGIN { if (a > 0) printf "%+.2f%%", (oy - ox) * 100 / a }') |"
  done
else
  echo "(valgrind not installed)"
fi
echo
echo "### On: -race against plain, lugo and Go"
echo
echo "| benchmark | -p | lugo | lugo -race | lugo ratio | Go | Go -race | Go ratio |"
echo "|---|---|---|---|---|---|---|---|"
for r in "shget|1" "shset|1" "shcontend|2" "shlocked|2" "mutex|1" "pingpong|2"; do
  IFS='|' read -r b p <<<"$r"
  log "[on $b -p $p]"
  read -r x y q <<<"$(pair "$b" "value $LUGO -p $p $here/lugo/$b.lua" "value $LUGO -race -p $p $here/lugo/$b.lua")"
  gx=-; gy=-; gq=-
  if [ $have_go = 1 ]; then
    read -r gx gy gq <<<"$(pair "go $b" "value env GOMAXPROCS=$p $tmp/go_$b" "value env GOMAXPROCS=$p $tmp/gorace_$b")"
  fi
  echo "| $b | $p | $x | $y | $q | $gx | $gy | $gq |"
done
echo
echo "### Memory per shared-table field under -race"
echo
log "[mem]"
N=200000
m0=$(value "$LUGO" "$here/lugo/shfields.lua" $N)
m1=$(value "$LUGO" -race "$here/lugo/shfields.lua" $N)
echo "$N keys written and read by one goroutine: peak RSS $m0 KB plain, $m1 KB with -race:" \
  "$(awk -v a="$m0" -v b="$m1" -v n=$N 'BEGIN { printf "%.0f", (b - a) * 1024 / n }') bytes per field."
