-- time_basic: durations are seconds (floats); time.Sleep returns, time.After
-- delivers on its channel, time.Now is a float, time.Since is never
-- negative. No timing thresholds: only ordering facts are asserted.
-- Sleeping goroutines are not "asleep" for deadlock detection.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

check("Millisecond == 0.001", time.Millisecond == 0.001)
check("Second == 1", time.Second == 1)
check("Minute == 60", time.Minute == 60)
check("Hour == 3600", time.Hour == 3600)
check("Microsecond ~ 1e-6", math.abs(time.Microsecond - 1e-6) < 1e-18)
check("Nanosecond ~ 1e-9", math.abs(time.Nanosecond - 1e-9) < 1e-21)
check("100 * Millisecond ~ 0.1", math.abs(100 * time.Millisecond - 0.1) < 1e-12)

local t0 = time.Now()
check("Now is a float", math.type(t0) == "float")
check("Now is wall-clock seconds (after 2020)", t0 > 1577836800)
check("Since is a non-negative number", type(time.Since(t0)) == "number" and time.Since(t0) >= 0)

time.Sleep(10 * time.Millisecond)
check("Sleep(10 * Millisecond) returns", true)
time.Sleep(0)
time.Sleep(-1)
check("Sleep(0) and Sleep(-1) return", true)
check("Since after sleeping is >= 0", time.Since(t0) >= 0)

-- time.After delivers one value
local a = time.After(0.01)
local v, ok = a:recv()
check("After delivers a value", v ~= nil and ok == true)
local t1 = time.Now()
time.Sleep(0.001)
check("Now after a sleep is not before the earlier Now", time.Now() >= t1)

-- After(0) and negative durations fire too
local z = time.After(0)
check("After(0) fires", (z:recv()) ~= nil)
z = time.After(-5)
check("After(-5) fires", (z:recv()) ~= nil)

-- a blocked main with only sleeping goroutines is not a deadlock
local c = chan()
go(function()
  time.Sleep(0.02)
  c:send("woke")
end)
check("goroutine wakes from Sleep and sends", c:recv() == "woke")

-- many sleepers at once all wake up
local n = 200
local done = chan(n)
for i = 1, n do
  go(function() time.Sleep(0.01 + (i % 5) * 0.001); done:send(i) end)
end
local sum = 0
for _ = 1, n do sum = sum + done:recv() end
check("200 concurrent sleepers all woke", sum == n * (n + 1) // 2)

-- After inside select: the timer is the only case that can become ready
local never = chan()
local r = select {
  {recv = never, function() return "never" end},
  {recv = time.After(5 * time.Millisecond), function() return "timer" end},
}
check("After as a select timeout", r == "timer")

-- a sleeping goroutine does not hold up the others
local order = chan(2)
go(function() time.Sleep(0.05); order:send("sleeper") end)
go(function() order:send("other") end)
local got = {(order:recv()), (order:recv())}
table.sort(got)
check("sleeper and non-sleeper both report", got[1] == "other" and got[2] == "sleeper")

-- bad arguments name the function
local bad, e = pcall(function() time.Sleep("soon") end)
check("Sleep('soon') raises naming Sleep", not bad and tostring(e):find("Sleep", 1, true) ~= nil, e)
bad, e = pcall(function() time.After({}) end)
check("After({}) raises naming After", not bad and tostring(e):find("After", 1, true) ~= nil, e)
print("done")
