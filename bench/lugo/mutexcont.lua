-- lugo benchmark: 2 goroutines hammer one sync.Mutex (Lock, increment an
-- atomic, Unlock). Reports ns per Lock+Unlock over both goroutines.
-- usage: lugo -p P mutexcont.lua [N=500000 per goroutine]
local N = tonumber(arg and arg[1]) or 500000
local mu, wg, n = sync.Mutex(), sync.WaitGroup(), atomic.Int64()
local t0 = time.Now()
for _ = 1, 2 do
  wg:Go(function(mu, n, N)
    for _ = 1, N do
      mu:Lock()
      n:Add(1)
      mu:Unlock()
    end
  end, mu, n, N)
end
wg:Wait()
assert(n:Load() == 2 * N)
print(string.format("mutexcont %.2f ns/op", (time.Now() - t0) * 1e9 / (2 * N)))
