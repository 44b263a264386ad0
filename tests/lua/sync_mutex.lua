-- sync_mutex: 16 goroutines x 100,000 Lock/Unlock increments of a counter
-- kept in an atomic (read and written separately, so only the Mutex makes
-- the total exact); With, TryLock; WaitGroup.Go waits for all of them.
local N, K = 16, 100000
local mu, wg = sync.Mutex(), sync.WaitGroup()
local counter, inside = atomic.Int64(0), atomic.Int64(0)
for _ = 1, N do
  wg:Go(function(mu, counter, inside, K)
    for i = 1, K do
      if i % 2 == 0 then
        mu:Lock()
        if inside:Add(1) ~= 1 then error("two goroutines inside the lock") end
        counter:Store(counter:Load() + 1)
        inside:Add(-1)
        mu:Unlock()
      else
        mu:With(function()
          if inside:Add(1) ~= 1 then error("two goroutines inside the lock") end
          counter:Store(counter:Load() + 1)
          inside:Add(-1)
        end)
      end
    end
  end, mu, counter, inside, K)
end
wg:Wait()
print("counter", counter:Load(), counter:Load() == N * K)

-- TryLock: fails while held, by anyone
mu:Lock()
local got = chan()
go(function(mu, got) got:send(mu:TryLock()) end, mu, got)
print("TryLock while held:", got:recv())
mu:Unlock()
print("TryLock when free:", mu:TryLock())
mu:Unlock()

-- a goroutine blocked in Lock is woken by the Unlock of another goroutine
mu:Lock()
go(function(mu, got) mu:Lock(); got:send("locked"); mu:Unlock() end, mu, got)
runtime.Gosched()
mu:Unlock()
print("waiter:", got:recv())

-- With returns fn's results, and unlocks when fn raises
print("With:", mu:With(function(a, b) return a + b, "x" end, 40, 2))
local ok, e = pcall(mu.With, mu, function() error({code = 7}) end)
print("error value kept:", type(e) == "table" and e.code)
print("unlocked after the error:", mu:TryLock())
mu:Unlock()

-- With across a channel wait inside fn (fn yields while holding the lock)
local c = chan()
go(function(c) c:send("ping") end, c)
print("With + recv:", mu:With(function() return c:recv() end))

-- a Mutex taken inside non-yieldable code (a sort comparator) blocks the
-- M; the holder, on another goroutine, still runs and unlocks
mu:Lock()
go(function(mu, got)
  local t = {3, 1, 2}
  table.sort(t, function(a, b) mu:Lock(); mu:Unlock(); return a < b end)
  got:send(table.concat(t, ","))
end, mu, got)
runtime.Gosched()
mu:Unlock()
print("sorted under a lock:", got:recv())

-- same object, same value, in every goroutine (interned)
go(function(a, b, got) got:send(rawequal(a, b)) end, mu, mu, got)
print("interned:", got:recv())

-- lost wake-ups: each round one goroutine blocks in Lock while main holds
-- the lock, and only main's Unlock can wake it (nobody else comes by); a
-- lost wake-up ends in a deadlock report.  Also for RWMutex, both ways.
local c = chan()
local rw = sync.RWMutex()
for i = 1, 5000 do
  mu:Lock()
  go(function(mu, c) mu:Lock(); mu:Unlock(); c:send(1) end, mu, c)
  if i % 2 == 0 then runtime.Gosched() end
  mu:Unlock()
  c:recv()
  rw:Lock()
  go(function(rw, c) rw:RLock(); rw:RUnlock(); c:send(1) end, rw, c)
  if i % 3 == 0 then runtime.Gosched() end
  rw:Unlock()
  c:recv()
  rw:RLock()
  go(function(rw, c) rw:Lock(); rw:Unlock(); c:send(1) end, rw, c)
  if i % 5 == 0 then runtime.Gosched() end
  rw:RUnlock()
  c:recv()
end
print("no lost wake-ups")
