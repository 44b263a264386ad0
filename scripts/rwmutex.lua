-- rwmutex.lua: readers and writers (Go's sync.RWMutex).
--
-- A "price list" lives in atomics; 3 writers update both prices together
-- under the write lock, 5 readers read them under the read lock. Readers
-- run side by side, a writer runs alone, so a reader never sees a price
-- list that is half updated (the two prices always sum to 100).
local rw = sync.RWMutex()
local apples, pears = atomic.Int64(50), atomic.Int64(50)
local reads, torn, together = atomic.Int64(), atomic.Int64(), atomic.Int64()
local inside = atomic.Int64()
local wg = sync.WaitGroup()

for w = 1, 3 do
  wg:Go(function()
    for i = 1, 200 do
      rw:Lock()
      local shift = (w * i) % 7
      apples:Add(-shift)
      runtime.Gosched()          -- halfway: readers must not see this
      pears:Add(shift)
      rw:Unlock()
    end
  end)
end

for _ = 1, 5 do
  wg:Go(function()
    for _ = 1, 400 do
      rw:RLock()
      if inside:Add(1) > 1 then together:Add(1) end
      if apples:Load() + pears:Load() ~= 100 then torn:Add(1) end
      reads:Add(1)
      runtime.Gosched()
      inside:Add(-1)
      rw:RUnlock()
    end
  end)
end

wg:Wait()
print("reads:", reads:Load(), "torn reads:", torn:Load())
print("sum after all writes:", apples:Load() + pears:Load())
print("readers overlapped:", together:Load() > 0)
