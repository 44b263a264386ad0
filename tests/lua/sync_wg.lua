-- sync_wg: WaitGroup with 100,000 goroutines, several waiters, reuse;
-- atomic.Int64 and atomic.Bool; every misuse error of this slice.
local wg, n = sync.WaitGroup(), atomic.Int64()
for _ = 1, 100000 do
  wg:Add(1)
  go(function(wg, n) n:Add(1); wg:Done() end, wg, n)
end
wg:Wait()
print("100000 goroutines:", n:Load())

-- several goroutines wait on one group; all are released at zero
local gate, out = sync.WaitGroup(), chan(10)
gate:Add(1)
local waiters = sync.WaitGroup()
for i = 1, 5 do
  waiters:Go(function(gate, out, i) gate:Wait(); out:send(i) end, gate, out, i)
end
runtime.Gosched()
gate:Done()
waiters:Wait()
local sum = 0
for _ = 1, 5 do sum = sum + out:recv() end
print("released waiters:", sum)

-- Wait on a zero counter returns at once; reuse after zero
local z = sync.WaitGroup()
z:Wait()
z:Go(function() end)
z:Wait()
print("reused")

-- atomics
local a = atomic.Int64(5)
print(a:Add(3), a:Add(-10), a:Load(), a:Swap(7), a:Load())
print(a:CompareAndSwap(6, 1), a:CompareAndSwap(7, 1), a:Load())
a:Store(math.maxinteger)
print("wraps:", a:Add(1) == math.mininteger)
local b = atomic.Bool(true)
print(b:Load(), b:Swap(false), b:Load(), b:CompareAndSwap(true, false), tostring(b))

-- misuse: clear errors, never a crash
local function try(f, ...) print(select(2, pcall(f, ...))) end
local mu = sync.Mutex()
try(mu.Unlock, mu)
try(mu.Lock, wg)
try(wg.Wait, mu)
try(wg.Add, wg, -1)
try(wg.Done, wg)
try(wg.Add, wg, 1.5)
try(wg.Add, wg)
try(wg.Go, wg, 42)
try(wg.Go, wg, function() end, coroutine.create(print))
try(mu.With, mu, "not a function")
try(a.Add, a, "x")
try(a.Load, b)
try(b.Store, b, 1)
try(atomic.Bool, "yes")
try(atomic.Int64, 1.5)
print("counter still zero:", select(2, pcall(function() wg:Wait() return "ok" end)))

-- objects cross by reference through channels too, inside tables
local box, back = chan(1), chan(1)
local m2 = sync.Mutex()
go(function(box, back)
  local t = box:recv()
  t.mu:Lock()                 -- the very same Mutex
  t.count:Add(10)
  back:send(t)                -- and back again, still the same objects
end, box, back)
box:send({mu = m2, count = atomic.Int64(1)})
local t = back:recv()
print("locked over there:", not m2:TryLock(), rawequal(t.mu, m2), t.count:Load())
m2:Unlock()
