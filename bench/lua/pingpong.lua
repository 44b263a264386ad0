-- lua5.4 baseline for lugo's pingpong: one resume/yield round trip per
-- exchange (main resumes the ponger with v, it yields back v + 1).
-- Reports nanoseconds per round trip.
-- usage: lua5.4 pingpong.lua [N=200000]
local N = tonumber(arg and arg[1]) or 200000

local yield, resume = coroutine.yield, coroutine.resume
local ponger = coroutine.create(function(v)
  while true do v = yield(v + 1) end
end)

local t0 = os.clock()
local v = 0
for _ = 1, N do
  local _, r = resume(ponger, v)
  v = r
end
local elapsed = os.clock() - t0

assert(v == N, "pingpong: wrong final value " .. tostring(v))
print(string.format("pingpong %.1f ns/op", elapsed * 1e9 / N))
