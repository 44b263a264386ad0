-- lugo benchmark: two goroutines (main + one spawned) bounce an integer over
-- two unbuffered channels. Reports nanoseconds per round trip
-- (one round trip = ping:send/recv + pong:send/recv).
-- usage: lugo -p P pingpong.lua [N=200000]
local N = tonumber(arg and arg[1]) or 200000

local ping, pong = chan(0), chan(0)

local function ponger(ping, pong, n)
  for _ = 1, n do
    local v = ping:recv()
    pong:send(v + 1)
  end
end

go(ponger, ping, pong, N)

local t0 = time.Now()
local v = 0
for _ = 1, N do
  ping:send(v)
  v = pong:recv()
end
local elapsed = time.Now() - t0

assert(v == N, "pingpong: wrong final value " .. tostring(v))
print(string.format("pingpong %.1f ns/op", elapsed * 1e9 / N))
