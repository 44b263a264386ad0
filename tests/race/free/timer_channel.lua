-- Arming a timer happens before a receive of its value (Go's edge): a
-- goroutine already waiting on a timer's C (or a ticker's) reads what main
-- wrote just before Reset (the Ticker's Reset too).
local t = shared.table{}
local wg = sync.WaitGroup()
local tm = time.NewTimer(3600)          -- far away: nothing fires yet
local ready = chan()
wg:Go(function()
  ready:send(true)                      -- (this edge is before main's write)
  tm.C:recv()
  print("timer:", t.x)                  -- written before Reset
end)
ready:recv()
t.x = 1
tm:Reset(0.001)
wg:Wait()

local tk = time.NewTicker(3600)
wg:Go(function()
  ready:send(true)
  tk.C:recv()
  print("ticker:", t.y)
  tk:Stop()
end)
ready:recv()
t.y = 2
tk:Reset(0.001)
wg:Wait()

print("done")
