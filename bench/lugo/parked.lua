-- lugo benchmark: memory per parked goroutine.
-- Starts N goroutines that each signal `ready` and then block on ch:recv().
-- Reads VmRSS from /proc/self/status before and after (once all are ready
-- and have had time to park); reports KB of RSS per parked goroutine.
-- usage: lugo -p P parked.lua [N=100000]
local N = tonumber(arg and arg[1]) or 100000

local function rss_kb()
  local f = assert(io.open("/proc/self/status", "r"))
  local s = f:read("a")
  f:close()
  return assert(tonumber(s:match("VmRSS:%s*(%d+)")), "no VmRSS")
end

local function sleeper(ready, ch)
  ready:send(true)
  ch:recv()
end

local ch = chan(0)
local ready = chan(N)              -- allocated before the first reading
collectgarbage("collect")
local before = rss_kb()

for _ = 1, N do
  go(sleeper, ready, ch)
end
for _ = 1, N do
  ready:recv()
end
time.Sleep(0.2)                    -- let the last ones reach ch:recv()
collectgarbage("collect")
local after = rss_kb()

ch:close()                         -- wakes everybody (recv returns nil, false)
print(string.format("parked %.3f KB/goroutine", (after - before) / N))
