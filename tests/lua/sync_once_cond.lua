-- sync_once_cond: Once under a thundering herd (fn blocks while the others
-- wait), Once when fn raises, Cond signal/broadcast to 1,000 waiters,
-- atomic.Value; errors.
local once, wg = sync.Once(), sync.WaitGroup()
local runs, saw = atomic.Int64(), atomic.Int64()
local config = atomic.Value()
local gate = chan()
for _ = 1, 1000 do
  wg:Go(function(once, runs, saw, config, gate)
    once:Do(function()
      runs:Add(1)
      gate:recv()                 -- blocks: every other caller must wait
      config:Store({name = "lugo", workers = 4})
    end)
    if config:Load().workers == 4 then saw:Add(1) end
  end, once, runs, saw, config, gate)
end
gate:send(true)
wg:Wait()
print("Once ran fn", runs:Load(), "time(s); callers that saw its result:", saw:Load())

-- fn raises: that caller gets the error, and fn never runs again
local o2, n2 = sync.Once(), atomic.Int64()
print(pcall(o2.Do, o2, function() n2:Add(1); error("config missing", 0) end))
print(pcall(o2.Do, o2, function() n2:Add(1) end))
print("fn ran", n2:Load(), "time(s)")

-- Cond: Broadcast wakes 1,000 waiters, each re-taking the mutex
local mu = sync.Mutex()
local cond = sync.Cond(mu)
local ready, waiting, woke = atomic.Bool(false), atomic.Int64(), atomic.Int64()
local all = sync.WaitGroup()
for _ = 1, 1000 do
  all:Go(function(mu, cond, ready, waiting, woke)
    mu:Lock()
    waiting:Add(1)
    while not ready:Load() do cond:Wait() end
    woke:Add(1)
    mu:Unlock()
  end, mu, cond, ready, waiting, woke)
end
while true do  -- until all are inside Wait (each counted under the lock)
  mu:Lock()
  local n = waiting:Load()
  mu:Unlock()
  if n == 1000 then break end
  runtime.Gosched()
end
mu:Lock()
ready:Store(true)
cond:Broadcast()
mu:Unlock()
all:Wait()
print("broadcast woke", woke:Load())

-- Signal wakes one waiter at a time, in order of arrival
local order, done = chan(10), sync.WaitGroup()
local turn = atomic.Int64()
for i = 1, 3 do
  mu:Lock()
  done:Go(function(mu, cond, order, i)
    mu:Lock()
    order:send("in " .. i)
    cond:Wait()
    order:send("woke " .. i)
    mu:Unlock()
  end, mu, cond, order, i)
  mu:Unlock()
  order:recv()  -- it is in Wait now (it sent while holding the lock)
end
for _ = 1, 3 do
  mu:Lock()
  cond:Signal()
  mu:Unlock()
  print((order:recv()))
end
done:Wait()

-- atomic.Value
local v = atomic.Value()
print("empty:", v:Load())
v:Store({1, 2, {3}})
local t = v:Load()
t[1] = 100                       -- a copy: the stored value is unchanged
print("copied:", v:Load()[1], v:Load()[3][1])
print(pcall(v.Store, v, "a string"))
print(pcall(v.Store, v, nil))
print(pcall(v.Store, v, coroutine.create(print)))

-- errors
print(pcall(sync.Cond, sync.RWMutex()))
print(pcall(cond.Wait, cond))     -- the mutex is not locked
print(pcall(once.Do, once, 42))
print(pcall(once.Do, mu, print))
