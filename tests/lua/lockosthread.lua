-- lockosthread: a locked goroutine runs on one OS thread through every
-- kind of park (channel, select, sleep, Mutex, Gosched, preemption) while
-- other goroutines keep running; unlocked, it may move again.
local mods = assert(os.getenv("LUGO_TESTMODS"), "run me through ctest")
package.cpath = mods .. "/?.so;" .. package.cpath
local tid = require("testmod").threadid
local N = 8
local wg, moved, runs = sync.WaitGroup(), atomic.Int64(), atomic.Int64()
local busy = atomic.Bool(true)
-- background load on every P
for _ = 1, 4 do
  go(function(busy, runs)
    while busy:Load() do runs:Add(1) runtime.Gosched() end
  end, busy, runs)
end
for i = 1, N do
  wg:Add(1)
  go(function(i, wg, moved)
    local tid = require("testmod").threadid
    runtime.LockOSThread()
    runtime.LockOSThread()   -- nests
    runtime.UnlockOSThread()  -- still locked
    local me = tid()
    local c, mu = chan(), sync.Mutex()
    go(function(c) for k = 1, 50 do c:send(k) end c:close() end, c)
    for _ in c:range() do if tid() ~= me then moved:Add(1) end end
    for _ = 1, 20 do
      time.Sleep(0.0001)
      if tid() ~= me then moved:Add(1) end
      runtime.Gosched()
      if tid() ~= me then moved:Add(1) end
      select { {recv = time.After(0), function() end} }
      if tid() ~= me then moved:Add(1) end
    end
    -- a busy loop long enough to be preempted (sysmon: 10 ms slices)
    local t0 = os.clock()
    while os.clock() - t0 < 0.03 do end
    if tid() ~= me then moved:Add(1) end
    runtime.UnlockOSThread()
    runtime.UnlockOSThread()  -- not locked any more: a no-op, as Go
    wg:Done()
  end, i, wg, moved)
end
wg:Wait()
busy:Store(false)
print("locked goroutines moved threads", moved:Load(), "others ran", runs:Load() > 0)
-- ending while locked frees the thread for others
local done = chan()
go(function(done) runtime.LockOSThread() done:send(true) end, done)
done:recv()
local c2 = chan()
for _ = 1, 100 do go(function(c2) c2:send(1) end, c2) end
local n = 0
for _ = 1, 100 do n = n + c2:recv() end
print("after a locked goroutine ended", n)
