-- lugo benchmark: shared.table set (an integer) with a string key, in one
-- goroutine.  The lua5.4 twin writes a plain table.
-- usage: lugo -p P shset.lua [N=5000000]
local N = tonumber(arg and arg[1]) or 5000000
local t = shared.table{key = 0}
local t0 = time.Now()
for i = 1, N do t.key = i end
local elapsed = time.Now() - t0
assert(t.key == N)
print(string.format("shset %.2f ns/op", elapsed * 1e9 / N))
