-- lua5.4 baseline for shget: a plain table get with a string key.
-- usage: lua5.4 shget.lua [N=5000000]
local N = tonumber(arg and arg[1]) or 5000000
local t = {key = 42}
local x
local t0 = os.clock()
for _ = 1, N do x = t.key end
local elapsed = os.clock() - t0
assert(x == 42)
print(string.format("shget %.2f ns/op", elapsed * 1e9 / N))
