-- runtime_pkg: Stack, Stats, NumGoroutine, NumCPU, Goid, Gosched; a dump
-- taken while goroutines park and wake all the time.
print("Goid of main", runtime.Goid())
print("NumCPU is a positive integer", math.type(runtime.NumCPU()) == "integer" and runtime.NumCPU() > 0)
print("Gosched returns nothing", select("#", runtime.Gosched()))

-- Stack(): this goroutine only, Go-shaped
local function here() return runtime.Stack() end
local s = here()
print((s:gsub("\t%[C%]: in %?\n", "")))
print("Stack(false) is Stack()", runtime.Stack(false):match("^goroutine 1 %[running%]:\n") ~= nil)

-- Stack(true): every goroutine, this one first, then by id, with the
-- reason each one waits and who created it
local c, mu, wg = chan(), sync.Mutex(), sync.WaitGroup()
mu:Lock()
wg:Add(1)
go(function(c) c:recv() end, c)                -- 2
go(function() time.Sleep(3600) end)            -- 3
go(function(mu) mu:Lock() end, mu)             -- 4
go(function(wg) wg:Wait() end, wg)             -- 5
go(function(c) select { {recv = c, function() end} } end, c)  -- 6
local all
repeat
  runtime.Gosched()
  all = runtime.Stack(true)
until select(2, all:gsub("goroutine %d+ %[", "")) == 6 and not all:find("runnable")
  and not all:find("stack unavailable")
for block in all:gmatch("(goroutine %d+ %b[]:\n.-)\n\n") do
  local head = block:match("^[^\n]+")
  local created = block:match("created by goroutine %d+") or "-"
  local line = block:match("runtime_pkg%.lua:(%d+):") or "?"
  print(head, "line " .. line, created)
end
print("NumGoroutine", runtime.NumGoroutine())

-- Stats
local st = runtime.Stats()
local names = {}
for k, v in pairs(st) do
  assert(math.type(v) == "integer" and v >= 0, k)
  names[#names + 1] = k
end
table.sort(names)
print("Stats fields", table.concat(names, " "))
print("goroutines", st.goroutines, "Ps", st.Ps, "spawned >= 5", st.spawned >= 5,
      "Ms >= 1", st.Ms >= 1, "rss > 0", st.rss > 0, "timers >= 1", st.timers >= 1)
-- memory comes from glibc's malloc statistics: 0 under a sanitizer that
-- replaces malloc, so only its type is checked above

-- a goroutine running Lua on another thread answers the dump with its
-- own stack (from the preemption hook, on its thread)
local spinstop = atomic.Bool(false)
go(function(spinstop)
  local function spinning() while not spinstop:Load() do end end
  spinning()
end, spinstop)
local found = false
for _ = 1, 2000 do
  runtime.Gosched()
  if runtime.Stack(true):find("in local 'spinning'", 1, true) then found = true break end
end
spinstop:Store(true)
print("a spinning goroutine's stack is in the dump", found)

-- a dump never reads a stack that is running: dump again and again while
-- 20 pairs ping-pong (the sanitizer builds check it)
local stop, done = atomic.Bool(false), sync.WaitGroup()
for _ = 1, 20 do
  local a, b = chan(), chan()
  done:Add(2)
  go(function(a, b, stop, done)
    while not stop:Load() do a:send(1) b:recv() end
    a:close() done:Done()
  end, a, b, stop, done)
  go(function(a, b, done)
    for _ in a:range() do b:send(1) end
    done:Done()
  end, a, b, done)
end
local dumps = 0
for _ = 1, 300 do
  local d = runtime.Stack(true)
  if d:find("goroutine 1 [running]", 1, true) then dumps = dumps + 1 end
end
stop:Store(true)
done:Wait()
print("dumps", dumps)
os.exit(0)  -- goroutines 2-6 stay parked
