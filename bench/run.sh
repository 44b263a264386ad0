#!/usr/bin/env bash
# bench/run.sh [LUGO_BINARY]
#
# Runs the lugo / lua5.4 / Go benchmark suite and prints a markdown report on
# stdout (progress and diagnostics go to stderr). Each configuration is run
# REPS times and the median is reported. If the lugo binary (default:
# build/lugo, relative to the repository root) is missing, the lugo columns are
# left out with a note, so the suite can be exercised before lugo exists.
#
# Environment knobs:
#   REPS=3            runs per configuration (median is reported)
#   BENCH_TIMEOUT=30  seconds before a single run is killed (reported as ERR)
#   LUA=lua5.4        stock Lua interpreter
#   GO=go             Go toolchain (programs are built offline with GOPROXY=off)
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
LUGO=${1:-$root/build/lugo}
REPS=${REPS:-3}
TIMEOUT=${BENCH_TIMEOUT:-30}
LUA=${LUA:-lua5.4}
GO=${GO:-go}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lugobench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

log() { printf '%s\n' "$*" >&2; }

# notes go to a file: run_median runs inside $(...) subshells
note() { printf '%s\n' "$*" >>"$tmp/notes"; }

# ---------------------------------------------------------------- toolchains
have_lugo=0
if [ -x "$LUGO" ]; then
    have_lugo=1
    LUGO=$(cd "$(dirname "$LUGO")" && pwd)/$(basename "$LUGO")
else
    note "lugo binary \`$LUGO\` not found: lugo columns skipped (build it with \`cmake -S . -B build && cmake --build build\`)."
fi

have_lua=0
if command -v "$LUA" >/dev/null 2>&1; then
    have_lua=1
else
    note "\`$LUA\` not found: lua5.4 column is empty."
fi

have_go=0
gobin=$tmp/gobin
if command -v "$GO" >/dev/null 2>&1; then
    have_go=1
    mkdir -p "$gobin"
    log "building Go benchmarks..."
    for src in "$here"/go/*.go; do
        name=$(basename "$src" .go)
        if ! (cd "$here/go" && GOPROXY=off GOFLAGS='' "$GO" build -o "$gobin/$name" "$src") \
                >"$tmp/gobuild.$name" 2>&1; then
            note "go build of bench/go/$name.go failed: $(head -c 300 "$tmp/gobuild.$name" | tr '\n' ' ')"
        fi
    done
else
    note "\`$GO\` not found: Go column is empty."
fi

# ---------------------------------------------------------------- running
# run_median LABEL CMD... -> prints "VALUE UNIT", or "ERR -" on failure.
# The command must print one line "name value unit" (the last line counts).
run_median() {
    local label=$1; shift
    local vals=() unit=- i out line rc
    for ((i = 0; i < REPS; i++)); do
        out=$(timeout -k 5 "$TIMEOUT" "$@" 2>"$tmp/stderr")
        rc=$?
        line=$(printf '%s\n' "$out" | awk 'NF >= 3 { l = $0 } END { print l }')
        local v u
        v=$(printf '%s\n' "$line" | awk '{ print $2 }')
        u=$(printf '%s\n' "$line" | awk '{ print $3 }')
        if [ $rc -ne 0 ] || ! awk -v x="$v" 'BEGIN { exit !(x ~ /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/) }'; then
            local why="exit $rc"
            [ $rc -eq 124 ] && why="timed out after ${TIMEOUT}s"
            note "$label: \`$*\` failed ($why): $(tail -n 3 "$tmp/stderr" | head -c 300 | tr '\n' ' ')${out:+ stdout: $(printf '%s' "$out" | tail -n 1 | head -c 100)}"
            log "  $label: ERR ($why)"
            echo "ERR -"
            return
        fi
        vals+=("$v")
        unit=$u
    done
    local med
    med=$(printf '%s\n' "${vals[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    log "  $label: ${vals[*]} -> $med $unit"
    echo "$med $unit"
}

# Benchmark rows: id | benchmark | -p/GOMAXPROCS | args | direction | unit
# (direction: "low" = lower is better, "high" = higher is better)
rows=(
    "spawn|spawn 100k goroutines|1||low|us/op"
    "spawn|spawn 100k goroutines|2||low|us/op"
    "pingpong|pingpong 200k round trips|1||low|ns/op"
    "pingpong|pingpong 200k round trips|2||low|ns/op"
    "fanin|fan-in 4→1, chan(128), 1M msgs|1||high|Mmsg/s"
    "fanin|fan-in 4→1, chan(128), 1M msgs|2||high|Mmsg/s"
    "parallel|parallel CPU work, K=2 goroutines|1|2|low|s"
    "parallel|parallel CPU work, K=2 goroutines|2|2|low|s"
    "parked|parked goroutines (100k), RSS|1||low|KB/goroutine"
    "globals|global-function loop in 1 goroutine|1||low|s"
    "tablemsg|1,000-entry table through a channel (lua5.4: serialise + load)|1||low|us/op"
    "tablemsg|1,000-entry table through a channel (lua5.4: serialise + load)|2||low|us/op"
    "mutex|uncontended sync.Mutex Lock+Unlock|1||low|ns/op"
    "atomicadd|uncontended atomic.Int64 Add|1||low|ns/op"
    "mutexcont|2 goroutines hammering one Mutex|2||low|ns/op"
    "shget|shared.table get, string key (lua5.4: plain table; Go: map + Mutex)|1||low|ns/op"
    "shset|shared.table set, string key (lua5.4: plain table; Go: map + Mutex)|1||low|ns/op"
    "fzget|frozen table get, string key (lua5.4: plain table; Go: map, no lock)|1||low|ns/op"
    "shcontend|2 goroutines get+set their own keys of one shared.table (Go: map + Mutex)|2||low|ns/op"
    "sharemsg|1,000-entry shared.table sent by reference through a channel (cf. tablemsg)|1||low|us/op"
    "sharemsg|1,000-entry shared.table sent by reference through a channel (cf. tablemsg)|2||low|us/op"
    "shmake|shared.table(init) of the 1,000-entry table|1||low|us/op"
    "timerstop|NewTimer + Stop with 1,000,000 timers pending|1||low|ns/op"
    "timerlate|timer lateness, median of 2,000 sleeps of 1-50 ms|1||low|us"
    "timerlate|timer lateness, median of 2,000 sleeps of 1-50 ms|2||low|us"
)

declare -A lua_cache
declare -A res_lugo res_lua res_go

i=0
for r in "${rows[@]}"; do
    IFS='|' read -r id title p args dir unit <<<"$r"
    # shellcheck disable=SC2086
    set -- $args
    log "[$id -p $p]"
    lugo_r="- -"; lua_r="- -"; go_r="- -"
    if [ $have_lugo = 1 ]; then
        lugo_r=$(run_median "lugo $id -p $p" "$LUGO" -p "$p" "$here/lugo/$id.lua" "$@")
    fi
    if [ $have_lua = 1 ] && [ -f "$here/lua/$id.lua" ]; then
        key="$id $args"
        if [ -z "${lua_cache[$key]+x}" ]; then
            lua_cache[$key]=$(run_median "lua5.4 $id" "$LUA" "$here/lua/$id.lua" "$@")
        fi
        lua_r=${lua_cache[$key]}
    fi
    if [ $have_go = 1 ] && [ -x "$gobin/$id" ]; then
        go_r=$(run_median "go $id GOMAXPROCS=$p" env GOMAXPROCS="$p" "$gobin/$id" "$@")
    fi
    for pair in "lugo|$lugo_r" "lua5.4|$lua_r" "Go|$go_r"; do
        IFS='|' read -r who got <<<"$pair"
        read -r _ u <<<"$got"
        if [ "$u" != - ] && [ "$u" != "$unit" ]; then
            note "$id (P=$p): $who printed unit '$u', expected '$unit'"
        fi
    done
    read -r res_lugo[$i] _ <<<"$lugo_r"
    read -r res_lua[$i] _ <<<"$lua_r"
    read -r res_go[$i] _ <<<"$go_r"
    i=$((i + 1))
done

# ---------------------------------------------------------------- report
num() { awk -v x="$1" 'BEGIN { exit !(x ~ /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/) }'; }
ratio() { # a/b with 2 decimals followed by optional suffix $3, or "–"
    if num "$1" && num "$2" && awk -v b="$2" 'BEGIN { exit !(b + 0 != 0) }'; then
        awk -v a="$1" -v b="$2" -v s="${3:-}" 'BEGIN { printf "%.2f%s", a / b, s }'
    else
        printf '–'
    fi
}
cell() { if [ "$1" = - ]; then printf '–'; else printf '%s' "$1"; fi; }

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
[ -n "$cpu" ] || cpu=$(awk -F': *' '/^(Hardware|Processor|cpu model)/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
luav=$([ $have_lua = 1 ] && "$LUA" -v 2>&1 | head -n 1 || echo "n/a")
gov=$([ $have_go = 1 ] && "$GO" version 2>&1 || echo "n/a")
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commits yet")
dirty=$(git -C "$root" status --porcelain 2>/dev/null | head -n 1)
[ -n "$dirty" ] && rev="$rev (+ uncommitted changes)"

echo "## lugo benchmarks"
echo
echo "$(date '+%Y-%m-%d %H:%M %Z') · \`$(uname -m)\` · nproc $(nproc) · CPU: ${cpu:-unknown}"
echo
echo "- lua5.4: \`$luav\`"
echo "- Go: \`$gov\`"
if [ $have_lugo = 1 ]; then
    echo "- lugo: \`$LUGO\` (repo $rev)"
else
    echo "- lugo: not built"
fi
echo "- method: median of $REPS runs; lugo runs with \`-p P\`, Go with \`GOMAXPROCS=P\` (P in the benchmark name); lua5.4 is single-threaded (coroutines), so its number is repeated across P."
echo
if [ $have_lugo = 1 ]; then
    echo "| benchmark | unit | lugo | lua5.4 | Go | lugo/Go | lugo/lua5.4 |"
    echo "|---|---|--:|--:|--:|--:|--:|"
else
    echo "| benchmark | unit | lua5.4 | Go |"
    echo "|---|---|--:|--:|"
fi
i=0
for r in "${rows[@]}"; do
    IFS='|' read -r id title p args dir unit <<<"$r"
    arrow="↓"; [ "$dir" = high ] && arrow="↑"
    name="$title (P=$p)"
    u="$unit $arrow"
    if [ $have_lugo = 1 ]; then
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$u" \
            "$(cell "${res_lugo[$i]}")" "$(cell "${res_lua[$i]}")" "$(cell "${res_go[$i]}")" \
            "$(ratio "${res_lugo[$i]}" "${res_go[$i]}")" "$(ratio "${res_lugo[$i]}" "${res_lua[$i]}")"
    else
        printf '| %s | %s | %s | %s |\n' "$name" "$u" \
            "$(cell "${res_lua[$i]}")" "$(cell "${res_go[$i]}")"
    fi
    i=$((i + 1))
done
echo
echo "↓ lower is better, ↑ higher is better. Ratios are plain value ratios (lugo value / other value): for ↓ rows a ratio > 1 means lugo is slower / uses more, for ↑ rows a ratio > 1 means lugo is faster."
echo

# parallel speedups: rows 6 (N=1) and 7 (N=2)
p1=6; p2=7
echo "**Parallel speedup** (same K=2 workload, P=1 time / P=2 time; ideal 2.00 on 2+ cores):"
echo
if [ $have_lugo = 1 ]; then
    echo "- lugo \`-p 2\` vs \`-p 1\`: $(ratio "${res_lugo[$p1]}" "${res_lugo[$p2]}" ×)"
else
    echo "- lugo \`-p 2\` vs \`-p 1\`: n/a (lugo not built)"
fi
echo "- Go \`GOMAXPROCS=2\` vs \`1\`: $(ratio "${res_go[$p1]}" "${res_go[$p2]}" ×)"
if [ -s "$tmp/notes" ]; then
    echo
    echo "Notes:"
    echo
    sed 's/^/- /' "$tmp/notes"
fi
