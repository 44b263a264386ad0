-- sync.RWMutex: Unlock -> RLock/Lock, RUnlock -> Lock. Two writers update
-- t.a and t.b together under Lock; three readers read both under RLock and
-- check they agree. No race (readers' reads don't race each other).
local t = shared.table{a = 0, b = 0, bad = 0}
local rw = sync.RWMutex()
local wg = sync.WaitGroup()
wg:Add(5)
for _ = 1, 2 do
  go(function()
    for _ = 1, 50 do
      rw:Lock()
      t.a = t.a + 1
      t.b = t.b + 1
      rw:Unlock()
    end
    wg:Done()
  end)
end
local bad = atomic.Int64(0)
for _ = 1, 3 do
  go(function()
    for _ = 1, 50 do
      rw:RLock()
      if t.a ~= t.b then bad:Add(1) end
      rw:RUnlock()
    end
    wg:Done()
  end)
end
wg:Wait()
print("a", t.a, "b", t.b, "bad", bad:Load())
