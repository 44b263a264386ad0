-- lugo benchmark: 2 goroutines increment one key of a shared.table under
-- one sync.Mutex: every access follows a Lock, so under -race every one
-- is in a new epoch (the detector's slow path: check, record, stack).
-- ns per increment over both goroutines.
-- usage: lugo -p P shlocked.lua [N=400000 in all]
local N = tonumber(arg and arg[1]) or 400000
local t, mu, wg = shared.table{n = 0}, sync.Mutex(), sync.WaitGroup()
local t0 = time.Now()
for _ = 1, 2 do
  wg:Go(function(t, mu, n)
    for _ = 1, n do
      mu:Lock()
      t.n = t.n + 1
      mu:Unlock()
    end
  end, t, mu, N // 2)
end
wg:Wait()
assert(t.n == N // 2 * 2)
print(string.format("shlocked %.2f ns/op", (time.Now() - t0) * 1e9 / N))
