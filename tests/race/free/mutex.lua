-- sync.Mutex: Unlock -> a later Lock. Four goroutines do a
-- read-modify-write of t.n under the lock (also with TryLock). No race.
local t = shared.table{n = 0}
local mu = sync.Mutex()
local wg = sync.WaitGroup()
wg:Add(4)
for g = 1, 4 do
  go(function()
    for _ = 1, 100 do
      if g == 4 then
        while not mu:TryLock() do runtime.Gosched() end
      else
        mu:Lock()
      end
      local v = t.n
      t.n = v + 1
      mu:Unlock()
    end
    wg:Done()
  end)
end
wg:Wait()
print("n", t.n)
