-- gomaxprocs.lua: the same CPU-bound work on 1 and then 2 processors
-- (Ps), changing runtime.GOMAXPROCS while the program runs.
--
-- Run it with:   lugo scripts/gomaxprocs.lua
--
-- GOMAXPROCS bounds how many goroutines run Lua at the same moment. It
-- starts at `-p N`, LUGO_MAXPROCS or the number of CPUs, and
-- runtime.GOMAXPROCS(n) changes it at any time (it returns the old value;
-- runtime.GOMAXPROCS() only asks).

-- count the primes below n: pure Lua, no sharing
local function primes(n)
  local count = 0
  for i = 2, n do
    local prime = true
    for d = 2, math.floor(math.sqrt(i)) do
      if i % d == 0 then prime = false break end
    end
    if prime then count = count + 1 end
  end
  return count
end

local function run(workers)
  local results = chan(workers)
  local t0 = time.Now()
  for _ = 1, workers do
    go(function(results) results:send(primes(150000)) end, results)
  end
  local total = 0
  for _ = 1, workers do total = total + results:recv() end
  return total, time.Since(t0)
end

print("CPUs:", runtime.NumCPU() >= 1)
local before = runtime.GOMAXPROCS(1)
local total1, t1 = run(2)
print("GOMAXPROCS 1: 2 workers found " .. total1 .. " primes")
runtime.GOMAXPROCS(2)
local total2, t2 = run(2)
print("GOMAXPROCS 2: 2 workers found " .. total2 .. " primes")
-- the speed-up depends on the machine (and its load): print it to stderr,
-- so the expected output stays the same everywhere
io.stderr:write(string.format("1 P: %.2f s, 2 Ps: %.2f s, speed-up %.2fx\n",
                              t1, t2, t1 / t2))
print("Stats show the Ps:", runtime.Stats().Ps)
runtime.GOMAXPROCS(before)
