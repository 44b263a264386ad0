-- lugo benchmark: uncontended sync.Mutex Lock+Unlock pairs in one goroutine.
-- usage: lugo -p P mutex.lua [N=2000000]
local N = tonumber(arg and arg[1]) or 2000000
local mu = sync.Mutex()
local t0 = time.Now()
for _ = 1, N do
  mu:Lock()
  mu:Unlock()
end
print(string.format("mutex %.2f ns/op", (time.Now() - t0) * 1e9 / N))
