#!/usr/bin/env bash
# run.sh LUGO -- the lugo command's options, arguments and exit statuses,
# checked against what `lua` does where lugo follows it.
set -u
lugo=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# expect NAME WANT_STATUS WANT_STDOUT WANT_STDERR_SUBSTRING -- command...
expect() {
  local name=$1 status=$2 out=$3 err=$4; shift 4
  local got_out got_err got_status
  got_out=$("$@" 2> "$tmp/err" < "${STDIN:-/dev/null}")
  got_status=$?
  got_err=$(cat "$tmp/err")
  if [ "$got_status" = "$status" ] && [ "$got_out" = "$out" ] &&
     { [ -z "$err" ] || [[ $got_err == *"$err"* ]]; }; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: status $got_status (want $status)"
    echo "  stdout: $(printf %q "$got_out") (want $(printf %q "$out"))"
    echo "  stderr: $got_err (want *$err*)"
  fi
}

printf 'print("script", ...)\nprint(arg[0], arg[1], arg[2], #arg)\n' > "$tmp/s.lua"
printf 'return {x = 42}\n' > "$tmp/mymod.lua"
printf 'print("from stdin", ...)\n' > "$tmp/in.lua"

expect "script with args" 0 "$(printf 'script\ta\tb\n%s\ta\tb\t2' "$tmp/s.lua")" "" \
  "$lugo" "$tmp/s.lua" a b
expect "-e runs a statement" 0 "7" "" "$lugo" -e 'print(3 + 4)'
expect "-e twice, in order" 0 "$(printf '1\n2')" "" "$lugo" -e 'x = 1 print(x)' -e 'print(x + 1)'
expect "-e then script" 0 "$(printf 'script\tq\n%s\tq\tnil\t1' "$tmp/s.lua")" "" \
  "$lugo" -e 'y = 1' "$tmp/s.lua" q
expect "arg without a script, as lua" 0 "$(printf '%s\t-e\t2' "$lugo")" "" \
  "$lugo" -e 'print(arg[0], arg[1], #arg)'
expect "-l mod" 0 "42" "" env LUA_PATH="$tmp/?.lua" "$lugo" -l mymod -e 'print(mymod.x)'
expect "-l g=mod" 0 "42" "" env LUA_PATH="$tmp/?.lua" "$lugo" -l m=mymod -e 'print(m.x)'
# the REPL without a terminal (lugo -i < file): prompts, values, errors
banner="lugo 0.1.0 (Lua 5.4.4) with Go's concurrency"
printf '1 + 1\n"a", 1, nil\n=x\nfunction f(a)\n  return a * 2\nend\nf(21)\nerror("boom")\n' > "$tmp/repl.in"
STDIN="$tmp/repl.in" expect "-i reads lines from a pipe" 0 \
  "$(printf '%s\n> 2\n> a\t1\tnil\n> nil\n> >> >> > 42\n> > ' "$banner")" "stdin:1: boom" "$lugo" -i
printf 'greeting = "hi from the script"\nprint("script ran")\n' > "$tmp/g.lua"
printf '=greeting\n' > "$tmp/repl2.in"
STDIN="$tmp/repl2.in" expect "-i script: the REPL sees its globals" 0 \
  "$(printf '%s\nscript ran\n> hi from the script\n> ' "$banner")" "" "$lugo" -i "$tmp/g.lua"
printf 'error("bad script")\n' > "$tmp/bad.lua"
STDIN="$tmp/repl2.in" expect "-i with a failing script ends, as lua" 1 "$banner" "bad script" \
  "$lugo" -i "$tmp/bad.lua"
printf 'print("before")\nos.exit(3)\n' > "$tmp/repl3.in"
STDIN="$tmp/repl3.in" expect "os.exit in the REPL: output kept, status given" 3 \
  "$(printf '%s\n> before\n> ' "$banner")" "" "$lugo" -i
printf 'go(function() error("background") end)\nc = chan() go(function() c:send(7) end)\n=c:recv()\n' > "$tmp/repl4.in"
STDIN="$tmp/repl4.in" expect "a goroutine's panic does not end the REPL" 0 \
  "$(printf '%s\n> 2\n> > 7\ttrue\n> ' "$banner")" "panic: stdin:1: background" "$lugo" -i
expect "-v" 0 "lugo 0.1.0 (Lua 5.4.4) with Go's concurrency" "" "$lugo" -v
STDIN=$tmp/in.lua expect "- reads stdin" 0 "$(printf 'from stdin\tz')" "" "$lugo" - z
STDIN=$tmp/in.lua expect "piped stdin without a script" 0 "from stdin" "" "$lugo"
expect "-- ends options" 0 "$(printf 'script\t-v\n%s\t-v\tnil\t1' "$tmp/s.lua")" "" \
  "$lugo" -- "$tmp/s.lua" -v
expect "-p N sets GOMAXPROCS" 0 "3" "" "$lugo" -p 3 -e 'print(runtime.GOMAXPROCS())'
expect "LUGO_MAXPROCS" 0 "5" "" env LUGO_MAXPROCS=5 "$lugo" -e 'print(runtime.GOMAXPROCS())'
expect "-p takes precedence" 0 "2" "" env LUGO_MAXPROCS=5 "$lugo" -p 2 -e 'print(runtime.GOMAXPROCS())'
expect "-p 0 refused" 1 "" "not a positive number" "$lugo" -p 0 -e 'print(1)'
expect "-p without a value" 1 "" "'-p' needs argument" "$lugo" -p
expect "unknown option" 1 "" "unrecognized option '-x'" "$lugo" -x
expect "missing script" 1 "" "cannot open $tmp/nope.lua" "$lugo" "$tmp/nope.lua"
expect "syntax error in -e" 1 "" "(command line):1:" "$lugo" -e 'x ='
expect "error in main: exit 1, like lua" 1 "" "boom" "$lugo" -e 'error("boom")'
expect "-race turns the detector on" 0 "true" "" "$lugo" -race -e 'print(race.Enabled())'
expect "off by default" 0 "false	0" "" "$lugo" -e 'print(race.Enabled(), race.Errors())'
expect "LUGO_RACE=1 as -race" 0 "true" "" env LUGO_RACE=1 "$lugo" -e 'print(race.Enabled())'
expect "LUGO_RACE=0 leaves it off" 0 "false" "" env LUGO_RACE=0 "$lugo" -e 'print(race.Enabled())'
expect "-race: a race makes exit status 66" 66 "" "DATA RACE" "$lugo" -race -p 2 -e '
  local t, wg = shared.table{n = 0}, sync.WaitGroup()
  for i = 1, 2 do wg:Go(function() t.n = t.n + 1 end) end
  wg:Wait()'
expect "-race: os.exit(0) after a race is 66" 66 "" "DATA RACE" "$lugo" -race -p 2 -e '
  local t, wg = shared.table{n = 0}, sync.WaitGroup()
  for i = 1, 2 do wg:Go(function() t.n = t.n + 1 end) end
  wg:Wait(); os.exit(0)'
expect "-race: a failing program keeps its status" 3 "" "DATA RACE" "$lugo" -race -p 2 -e '
  local t, wg = shared.table{n = 0}, sync.WaitGroup()
  for i = 1, 2 do wg:Go(function() t.n = t.n + 1 end) end
  wg:Wait(); os.exit(3)'
expect "-trace FILE" 0 "1" "" "$lugo" -trace "$tmp/t.json" -e 'print(1)'
expect "-trace wrote the file" 0 "ok" "" \
  sh -c 'head -c 16 "$1" | grep -q "^{\"traceEvents\":\[" && echo ok' sh "$tmp/t.json"
expect "-trace without a value" 1 "" "'-trace' needs argument" "$lugo" -trace
expect "-trace to a bad path: exit 1, nothing run" 1 "" \
  "-trace: cannot write $tmp/no/t.json: No such file or directory" \
  "$lugo" -trace "$tmp/no/t.json" -e 'print(1)'
if [ -w /dev/full ]; then
  expect "-trace write error: exit 1" 1 "1" "-trace: cannot write /dev/full: No space left on device" \
    "$lugo" -trace /dev/full -e 'print(1)'
fi
expect "os.exit status" 3 "" "" "$lugo" -e 'os.exit(3)'
expect "os.exit(true)" 0 "" "" "$lugo" -e 'os.exit(true)'
expect "os.exit(false)" 1 "" "" "$lugo" -e 'os.exit(false)'

# SIGQUIT: every goroutine's dump on stderr, exit status 2, as Go, with
# the stack of a goroutine busy in a loop.  The script says "ready" once
# its own runtime.Stack shows the other goroutines parked; we wait for
# that (with a deadline), not for a time.
cat > "$tmp/quit.lua" <<'LUA'
local c, mu = chan(), sync.Mutex()
mu:Lock()
go(function(c) c:recv() end, c)
go(function() time.Sleep(3600) end)
go(function(mu) mu:Lock() end, mu)
go(function() local function spinning() while true do end end spinning() end)
local s = ""
while not (s:find("[chan receive]", 1, true) and s:find("[sleep]", 1, true)
           and s:find("[sync.Mutex.Lock]", 1, true)) do
  runtime.Gosched()
  s = runtime.Stack(true)
end
print("ready")
io.stdout:flush()
c:recv()
LUA
"$lugo" "$tmp/quit.lua" > "$tmp/qout" 2> "$tmp/qerr" &
qpid=$!
for _ in $(seq 1 1000); do
  grep -q ready "$tmp/qout" 2>/dev/null && break
  sleep 0.01  # polling with a deadline, not synchronisation
done
kill -QUIT $qpid
wait $qpid
qstatus=$?
qerr=$(cat "$tmp/qerr")
if [ "$qstatus" = 2 ] && [[ $qerr == *"SIGQUIT: quit"* ]] &&
   [[ $qerr == *"goroutine 1 ["* ]] &&
   [[ $qerr == *"goroutine 2 [chan receive]:"*"quit.lua:3:"*"created by goroutine 1"* ]] &&
   [[ $qerr == *"goroutine 3 [sleep]:"*"quit.lua:4:"* ]] &&
   [[ $qerr == *"goroutine 4 [sync.Mutex.Lock]:"*"quit.lua:5:"* ]] &&
   [[ $qerr == *"goroutine 5 ["*"in local 'spinning'"* ]]; then
  pass=$((pass + 1))
else
  fail=$((fail + 1))
  echo "FAIL SIGQUIT dump: status $qstatus (want 2)"
  echo "$qerr"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
