-- sync.Cond: a producer appends items to a shared queue under mu and
-- Signals; a consumer Waits in a loop and reads them; Broadcast wakes two
-- waiters on a "closed" flag. Everything is also under mu, and Signal /
-- Broadcast -> the woken Wait. No race.
local q = shared.table{head = 1, tail = 0, closed = false}
local mu = sync.Mutex()
local cond = sync.Cond(mu)
local wg = sync.WaitGroup()
local got = atomic.Int64(0)
for _ = 1, 2 do
  wg:Go(function()
    while true do
      mu:Lock()
      while q.head > q.tail and not q.closed do cond:Wait() end
      if q.head > q.tail then mu:Unlock(); return end
      local v = q[q.head]
      q.head = q.head + 1
      mu:Unlock()
      got:Add(v)
    end
  end)
end
for i = 1, 20 do
  mu:Lock()
  q.tail = q.tail + 1
  q[q.tail] = i
  cond:Signal()
  mu:Unlock()
end
mu:Lock(); q.closed = true; cond:Broadcast(); mu:Unlock()
wg:Wait()
print("got", got:Load(), "head", q.head)
