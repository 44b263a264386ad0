-- time_timers: Timer, Ticker, AfterFunc and Tick with Go 1.23's rules.
-- Only ordering facts are asserted: a timer that must not fire is one
-- that was stopped (never one that "had no time" to fire).

-- NewTimer: fires once on .C
local t = time.NewTimer(0.005)
print("Timer", tostring(t):match("^time%.Timer: "), tostring(t.C):match("^chan: "))
local v, ok = t.C:recv()
print("fired", math.type(v), ok)
print("Stop after the value was received", t:Stop())
print("Reset of a fired timer", t:Reset(0.001))
t.C:recv()
print("fired again after Reset")

-- Stop of a pending timer; Stop again; Reset after Stop arms it again
local t2 = time.NewTimer(3600)
print("Stop pending", t2:Stop(), "again", t2:Stop())
print("Reset after Stop", t2:Reset(0))
t2.C:recv()
print("fired after Reset(0)")
print("Reset of a pending timer", time.NewTimer(3600):Reset(3600))

-- a value sent but not received is taken back by Stop and Reset: no stale
-- value is seen after them (Go 1.23), and they report the timer active
local t3 = time.NewTimer(0)
local never = time.NewTimer(3600)
-- wait until t3 fired, without receiving its value: AfterFunc(0) queued
-- after it on the same heap fires after it (ties fire in FIFO order)
local seen = chan()
time.AfterFunc(0, function() seen:send(true) end)
seen:recv()
print("fired, unreceived: Stop", t3:Stop())
print("nothing stale after Stop", select {
  {recv = t3.C, function() return "stale" end},
  default = function() return "empty" end,
})
local t4 = time.NewTimer(0)
time.AfterFunc(0, function() seen:send(true) end)
seen:recv()
print("fired, unreceived: Reset", t4:Reset(3600))
print("nothing stale after Reset", select {
  {recv = t4.C, function() return "stale" end},
  default = function() return "empty" end,
})
t4:Stop() never:Stop()

-- a timer crosses goroutines by reference
local t5 = time.NewTimer(3600)
local res = chan()
go(function(t5, res) res:send(t5:Stop()) end, t5, res)
print("stopped by another goroutine", res:recv())
local t6 = time.NewTimer(0.002)
go(function(t6, res) t6.C:recv() res:send("received in a goroutine") end, t6, res)
print(res:recv())

-- AfterFunc: fn runs in its own goroutine; .C is nil
local ran = chan(1)
local af = time.AfterFunc(0.001, function() ran:send(runtime.Goid() ~= 1) end)
print("AfterFunc ran in its own goroutine", ran:recv(), "C", af.C)
print("Stop after it ran", af:Stop())
print("Reset runs it again", af:Reset(0))
print("again", ran:recv())
local stopped = time.AfterFunc(3600, function() error("must not run") end)
print("Stop before it runs", stopped:Stop())
-- an unreferenced AfterFunc still runs
time.AfterFunc(0, function() ran:send("unreferenced ran") end)
collectgarbage() collectgarbage()
print(ran:recv())
-- the copy contract applies to fn, as in go()
local results = {}
print(pcall(time.AfterFunc, 1, function() results[1] = 1 end))

-- NewTicker ticks until Stop; a slow reader gets at most one queued tick
local tk = time.NewTicker(0.001)
for _ = 1, 3 do tk.C:recv() end
print("three ticks")
time.Sleep(0.02)  -- about 20 ticks happen while nobody reads
print("queued ticks after a slow read", tk.C:len())
tk:Stop()
print("nothing after Stop", select {
  {recv = tk.C, function() return "tick" end},
  default = function() return "empty" end,
})
tk:Reset(0.001)
tk.C:recv()
print("ticking again after Reset")
tk:Stop()

-- Tick: a ticker's channel; nil for d <= 0, as Go
local c = time.Tick(0.001)
c:recv() c:recv()
print("Tick", time.Tick(0), time.Tick(-1))

-- errors name the function
local function err(f, ...) local ok, e = pcall(f, ...) print(ok, e) end
err(time.NewTimer, "x")
err(time.NewTimer, 0 / 0)
err(time.NewTicker, 0)
err(time.NewTicker, -1)
err(time.AfterFunc, 1)
err(time.AfterFunc, "x", print)
err(time.Tick, {})
err(t.Stop, 5)
err(t.Reset, t, "soon")
err(tk.Stop, t)
err(tk.Reset, tk, 0)
err(t.Reset, tk, 1)
print("done")
