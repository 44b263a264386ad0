-- cond_ready.lua: goroutines wait for a "ready" flag with sync.Cond; one
-- Broadcast releases them all. (A closed channel does the same job in
-- most Go code; Cond is for conditions that change many times.)
local mu = sync.Mutex()
local cond = sync.Cond(mu)
local ready = atomic.Bool(false)
local waiting, started = atomic.Int64(), sync.WaitGroup()
local wg, out = sync.WaitGroup(), chan(10)

for i = 1, 10 do
  started:Add(1)
  wg:Go(function()
    mu:Lock()
    started:Done()
    while not ready:Load() do cond:Wait() end   -- always in a loop
    mu:Unlock()
    out:send(i)
  end)
end

started:Wait()       -- every worker holds or has held the lock: now flip
mu:Lock()
ready:Store(true)
cond:Broadcast()
mu:Unlock()
wg:Wait()
out:close()
local got = {}
for i in out:range() do got[#got + 1] = i end
table.sort(got)
print("released:", table.concat(got, " "))
