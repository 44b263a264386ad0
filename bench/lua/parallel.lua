-- lua5.4 baseline for lugo's parallel: the same K chunks of Leibniz-series
-- work, computed one after another on the only thread.
-- Reports total seconds.
-- usage: lua5.4 parallel.lua [K=2] [W=50000000]
local K = tonumber(arg and arg[1]) or 2
local W = tonumber(arg and arg[2]) or 50000000

local function partial(lo, hi)   -- sum over i in [lo, hi)
  local s = 0.0
  for i = lo, hi - 1 do
    s = s + 1.0 / (4 * i + 1) - 1.0 / (4 * i + 3)
  end
  return s
end

local t0 = os.clock()
local sum = 0.0
for k = 0, K - 1 do
  sum = sum + partial((W * k) // K, (W * (k + 1)) // K)
end
local elapsed = os.clock() - t0

assert(math.abs(4 * sum - math.pi) < 1e-6, "parallel: wrong result " .. 4 * sum)
print(string.format("parallel %.4f s", elapsed))
