-- lua5.4 baseline for lugo's globals: the identical global-function-heavy
-- CPU loop, run at top level (no goroutine). Reports seconds.
-- usage: lua5.4 globals.lua [N=10000000]
local N = tonumber(arg and arg[1]) or 10000000

---- shared workload: keep byte-identical with bench/lua/globals.lua ----------
function helper(a, b)
  return (a * 31 + b) % 1000003
end

function work(n, done)
  local s = "the quick brown fox jumps over the lazy dog"
  local len = #s
  local acc = 0
  for i = 1, n do
    local c = string.byte(s, i % len + 1)
    acc = helper(acc, c)
    acc = acc + math.floor(i / 3) % 7
  end
  if done then done:send(acc) end
  return acc
end
---- end of shared workload --------------------------------------------------

local t0 = os.clock()
local acc = work(N)
local elapsed = os.clock() - t0

assert(math.type(acc) == "integer", "globals: bad result " .. tostring(acc))
print(string.format("globals %.4f s", elapsed))
