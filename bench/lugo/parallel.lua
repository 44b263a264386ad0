-- lugo benchmark: CPU-bound pure-Lua work split over K goroutines.
-- Workload: W terms of the Leibniz series for pi (pairs of float divisions),
-- split into K equal contiguous chunks; each goroutine sends its partial sum.
-- Reports total wall seconds; the runner compares `-p 1` with `-p 2`.
-- usage: lugo -p P parallel.lua [K=2] [W=50000000]
local K = tonumber(arg and arg[1]) or 2
local W = tonumber(arg and arg[2]) or 50000000

local function partial(lo, hi, out)   -- sum over i in [lo, hi)
  local s = 0.0
  for i = lo, hi - 1 do
    s = s + 1.0 / (4 * i + 1) - 1.0 / (4 * i + 3)
  end
  out:send(s)
end

local out = chan(K)
local t0 = time.Now()
for k = 0, K - 1 do
  go(partial, (W * k) // K, (W * (k + 1)) // K, out)
end
local sum = 0.0
for _ = 1, K do
  sum = sum + out:recv()
end
local elapsed = time.Now() - t0

assert(math.abs(4 * sum - math.pi) < 1e-6, "parallel: wrong result " .. 4 * sum)
print(string.format("parallel %.4f s", elapsed))
