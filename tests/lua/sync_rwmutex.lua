-- sync_rwmutex: readers share, writers exclude everyone, a waiting writer
-- is not starved; errors.  Under -p 2 with many goroutines.
local rw, wg = sync.RWMutex(), sync.WaitGroup()
local readers, writers = atomic.Int64(), atomic.Int64()
local maxreaders, bad = atomic.Int64(), atomic.Int64()
local value = atomic.Int64()

local function reader(rw, readers, writers, maxreaders, bad, value)
  for _ = 1, 2000 do
    rw:RLock()
    local n = readers:Add(1)
    if writers:Load() ~= 0 then bad:Add(1) end
    if n > maxreaders:Load() then maxreaders:Store(n) end
    local v = value:Load()
    if v % 2 ~= 0 then bad:Add(1) end  -- a writer's half-done update
    runtime.Gosched()
    readers:Add(-1)
    rw:RUnlock()
  end
end

local function writer(rw, readers, writers, bad, value)
  for _ = 1, 500 do
    rw:Lock()
    if writers:Add(1) ~= 1 or readers:Load() ~= 0 then bad:Add(1) end
    value:Add(1)            -- odd while we hold it
    runtime.Gosched()
    value:Add(1)
    writers:Add(-1)
    rw:Unlock()
  end
end

for _ = 1, 8 do wg:Go(reader, rw, readers, writers, maxreaders, bad, value) end
for _ = 1, 3 do wg:Go(writer, rw, readers, writers, bad, value) end
wg:Wait()
print("overlaps:", bad:Load(), "writes:", value:Load() // 2)
print("readers shared the lock:", maxreaders:Load() > 1)

-- TryLock / TryRLock
rw:RLock()
print("TryRLock while read-locked:", rw:TryRLock())
rw:RUnlock()
print("TryLock while read-locked:", rw:TryLock())
rw:RUnlock()
print("TryLock when free:", rw:TryLock())
print("TryRLock while write-locked:", rw:TryRLock())
rw:Unlock()

-- a waiting writer stops new readers: with a reader in, a writer queues
-- (TryRLock starts failing once it has); a reader arriving after it waits
-- for the writer
local order = chan(10)
rw:RLock()
go(function(rw, order) rw:Lock(); order:send("writer"); rw:Unlock() end, rw, order)
while rw:TryRLock() do rw:RUnlock(); runtime.Gosched() end
go(function(rw, order) rw:RLock(); order:send("late reader"); rw:RUnlock() end, rw, order)
rw:RUnlock()
print((order:recv()), (order:recv()))

-- errors
print(pcall(rw.Unlock, rw))
print(pcall(rw.RUnlock, rw))
print(pcall(rw.RLock, sync.Mutex()))
