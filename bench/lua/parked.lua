-- lua5.4 baseline for lugo's parked: N suspended coroutines (each yielded
-- from inside a function, like a goroutine blocked in recv), kept alive in a
-- table. Reports KB of RSS per coroutine.
-- usage: lua5.4 parked.lua [N=100000]
local N = tonumber(arg and arg[1]) or 100000

local function rss_kb()
  local f = assert(io.open("/proc/self/status", "r"))
  local s = f:read("a")
  f:close()
  return assert(tonumber(s:match("VmRSS:%s*(%d+)")), "no VmRSS")
end

local function recv() return coroutine.yield() end
local function sleeper() recv() end

local cos = {}
collectgarbage("collect")
local before = rss_kb()
for i = 1, N do
  local co = coroutine.create(sleeper)
  assert(coroutine.resume(co))
  cos[i] = co
end
collectgarbage("collect")
local after = rss_kb()

for i = 1, N do                  -- "close the channel": let them all finish
  assert(coroutine.resume(cos[i]))
end
print(string.format("parked %.3f KB/goroutine", (after - before) / N))
