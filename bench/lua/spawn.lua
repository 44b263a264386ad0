-- lua5.4 baseline for lugo's spawn: create + resume-to-finish N coroutines.
-- Each coroutine "signals done" by bumping a counter (the analogue of the
-- done-channel send). Reports microseconds per coroutine.
-- usage: lua5.4 spawn.lua [N=100000]
local N = tonumber(arg and arg[1]) or 100000

local create, resume = coroutine.create, coroutine.resume
local done = 0
local function worker() done = done + 1 end

local t0 = os.clock()
for _ = 1, N do
  local co = create(worker)
  assert(resume(co))
end
local elapsed = os.clock() - t0

assert(done == N)
print(string.format("spawn %.3f us/op", elapsed * 1e6 / N))
