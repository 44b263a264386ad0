-- lugo benchmark: spawn + finish N goroutines.
-- Each goroutine sends one value on a shared buffered `done` channel; main
-- receives N times (no WaitGroup). Reports microseconds per goroutine.
-- usage: lugo -p P spawn.lua [N=100000]
local N = tonumber(arg and arg[1]) or 100000

local done = chan(N)              -- big enough that no goroutine ever blocks

local function worker(d)          -- no upvalues: everything via arguments
  d:send(true)
end

local t0 = time.Now()
for _ = 1, N do
  go(worker, done)
end
for _ = 1, N do
  done:recv()
end
local elapsed = time.Now() - t0

print(string.format("spawn %.3f us/op", elapsed * 1e6 / N))
