#!/usr/bin/env bash
# bench/repl.sh [LUGO_BINARY]
#
# Measures the REPL line round trip of `lugo -i` with stdin piped. For every
# line the host (main) thread reads it, wakes goroutine 1 (parked through the
# host-park API), which compiles and runs the line, then parks again. We feed
# N lines `x = (x or 0) + 1` plus a final `=x` and report wall time per line,
# next to `lua5.4 -i` (same REPL, no threads) and a Go program.
#
# Go has no REPL, so bench/go/repl_handoff.go models the same thread handoff:
# main reads stdin with bufio.Scanner, sends each line to a worker goroutine
# over an unbuffered channel, the worker parses it and adds it to a sum, and
# replies on a second unbuffered channel before main reads the next line. It
# shows the cost of the handoff itself with no compile step, i.e. a floor.
#
# Also measures startup: average wall time of `lugo -e ''` vs `lua5.4 -e ''`.
# Each REPL configuration is run REPS times (median reported); every run's
# last printed value is checked to equal N so a broken run is not timed fast.
# Times are whole-process wall times (startup included; small for large N).
#
# Environment: N=20000 lines, REPS=3 runs, STARTS=200 startup runs,
#              LUA=lua5.4, GO=go (built offline with GOPROXY=off).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
LUGO=${1:-$root/build/lugo}
N=${N:-20000}
REPS=${REPS:-3}
STARTS=${STARTS:-200}
LUA=${LUA:-lua5.4}
GO=${GO:-go}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lugorepl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

now() { date +%s%N; }
die() { echo "error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- inputs
{ for ((i = 0; i < N; i++)); do echo 'x = (x or 0) + 1'; done; echo '=x'; } >"$tmp/lua.in"
{ for ((i = 0; i < N; i++)); do echo 1; done; } >"$tmp/go.in"

(cd "$here/go" && GOPROXY=off GOFLAGS='' "$GO" build -o "$tmp/repl_handoff" repl_handoff.go) \
    || die "go build of bench/go/repl_handoff.go failed"

# run_median NAME CMD... : runs CMD REPS times with stdin from $tmp/NAME-input,
# checks the last number in its output is N, prints the median time in ns.
run_median() {
    local input=$1; shift
    local times=() t0 t1 last
    for ((r = 0; r < REPS; r++)); do
        t0=$(now)
        "$@" <"$input" >"$tmp/out" 2>"$tmp/err" || die "$* failed: $(head -c 300 "$tmp/err")"
        t1=$(now)
        last=$(grep -oE '[0-9]+' "$tmp/out" | tail -n 1)
        [ "$last" = "$N" ] || die "$*: last value '$last', expected $N"
        times+=($((t1 - t0)))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p"
    echo "  $*: ${times[*]} ns" >&2
}

# startup_avg CMD... : average ns per run over STARTS runs
startup_avg() {
    local t0 t1
    "$@" >/dev/null || die "$* failed"
    t0=$(now)
    for ((r = 0; r < STARTS; r++)); do "$@" >/dev/null; done
    t1=$(now)
    echo $(((t1 - t0) / STARTS))
}

echo "timing (N=$N, REPS=$REPS; per-run ns on stderr)..." >&2
lugo_ns=$(run_median "$tmp/lua.in" "$LUGO" -i)
lua_ns=$(run_median "$tmp/lua.in" "$LUA" -i)
go_ns=$(run_median "$tmp/go.in" "$tmp/repl_handoff")
lugo_st=$(startup_avg "$LUGO" -e '')
lua_st=$(startup_avg "$LUA" -e '')

# ---------------------------------------------------------------- report
awk -v n="$N" -v reps="$REPS" -v starts="$STARTS" \
    -v a="$lugo_ns" -v b="$lua_ns" -v c="$go_ns" -v sa="$lugo_st" -v sb="$lua_st" \
    -v cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    -v mach="$(nproc) CPUs, $(uname -m)" -v when="$(date -u)" 'BEGIN {
    printf "# lugo REPL line round trip\n\n"
    printf "- machine: %s, %s\n- date: %s\n", mach, cpu, when
    printf "- N=%d lines, median of %d runs; startup averaged over %d runs\n\n", n, reps, starts
    la = a / 1000 / (n + 1); lb = b / 1000 / (n + 1); lc = c / 1000 / n
    printf "| measure | lugo | lua5.4 | Go | lugo/lua5.4 | lugo/Go |\n"
    printf "|---|---:|---:|---:|---:|---:|\n"
    printf "| REPL line round trip (us/line) | %.2f | %.2f | %.2f | %.2f | %.2f |\n", la, lb, lc, la / lb, la / lc
    printf "| startup `-e \x27\x27` (ms/run) | %.2f | %.2f | - | %.2f | - |\n", sa / 1e6, sb / 1e6, sa / sb
}'
