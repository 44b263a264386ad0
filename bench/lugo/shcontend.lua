-- lugo benchmark: 2 goroutines each get and set their own key of one
-- shared.table (one lock, one cache line between them).  ns per access
-- over both goroutines.
-- usage: lugo -p P shcontend.lua [N=1000000 per goroutine]
local N = tonumber(arg and arg[1]) or 1000000
local t, wg = shared.table{a = 0, b = 0}, sync.WaitGroup()
local t0 = time.Now()
for _, k in ipairs({"a", "b"}) do
  wg:Go(function(t, k, N)
    for _ = 1, N // 2 do t[k] = t[k] + 1 end
  end, t, k, N)
end
wg:Wait()
assert(t.a == N // 2 and t.b == N // 2)
print(string.format("shcontend %.2f ns/op", (time.Now() - t0) * 1e9 / (2 * N)))
