-- lugo benchmark: shared.table get with a string key, in one goroutine.
-- The lua5.4 twin reads a plain table, so lugo/lua5.4 is the cost of a
-- shared table access in units of a plain table access (target: <= 10).
-- usage: lugo -p P shget.lua [N=5000000]
local N = tonumber(arg and arg[1]) or 5000000
local t = shared.table{key = 42}
local x
local t0 = time.Now()
for _ = 1, N do x = t.key end
local elapsed = time.Now() - t0
assert(x == 42)
print(string.format("shget %.2f ns/op", elapsed * 1e9 / N))
