-- lugo benchmark: a frozen table's get with a string key (no lock).
-- The lua5.4 twin reads a plain table.
-- usage: lugo -p P fzget.lua [N=5000000]
local N = tonumber(arg and arg[1]) or 5000000
local t = shared.freeze{key = 42}
local x
local t0 = time.Now()
for _ = 1, N do x = t.key end
local elapsed = time.Now() - t0
assert(x == 42)
print(string.format("fzget %.2f ns/op", elapsed * 1e9 / N))
