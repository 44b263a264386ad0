-- mutex_counter.lua: the classic Go mutex counter, in lugo.
--
-- Ten goroutines each add 1,000 to a counter. The counter lives in an
-- atomic.Int64 (a plain Lua variable would be copied into each goroutine);
-- the Mutex makes "load, add, store" one step, so no increment is lost.
-- Then the same with atomic Add alone, which needs no lock.
local mu = sync.Mutex()
local counter = atomic.Int64()
local wg = sync.WaitGroup()

for _ = 1, 10 do
  wg:Go(function()
    for _ = 1, 1000 do
      mu:Lock()
      counter:Store(counter:Load() + 1)
      mu:Unlock()
    end
  end)
end
wg:Wait()
print("with a mutex:", counter:Load())

-- the same, the lock taken and released around a function
local hits = atomic.Int64()
for _ = 1, 10 do
  wg:Go(function()
    for _ = 1, 1000 do
      mu:With(function() hits:Store(hits:Load() + 1) end)
    end
  end)
end
wg:Wait()
print("with mu:With:", hits:Load())

-- an atomic counter needs no lock at all
local ops = atomic.Int64()
for _ = 1, 10 do
  wg:Go(function()
    for _ = 1, 1000 do ops:Add(1) end
  end)
end
wg:Wait()
print("atomic:", ops:Load())
