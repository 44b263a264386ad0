-- lugo benchmark: uncontended atomic.Int64 Add in one goroutine.
-- usage: lugo -p P atomicadd.lua [N=5000000]
local N = tonumber(arg and arg[1]) or 5000000
local a = atomic.Int64()
local t0 = time.Now()
for _ = 1, N do a:Add(1) end
assert(a:Load() == N)
print(string.format("atomicadd %.2f ns/op", (time.Now() - t0) * 1e9 / N))
