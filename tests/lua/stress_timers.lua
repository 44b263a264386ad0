-- stress_timers: 100,000 goroutines, each with its own timer, on 2 Ps.
-- Odd ones wait for a short timer to fire; even ones stop an hour-long
-- timer (Stop must report it pending) and reset it to fire at once.
-- Then 10,000 AfterFuncs, half stopped before they can run.
local wg, fired, stopped = sync.WaitGroup(), atomic.Int64(), atomic.Int64()
local N = 100000
for i = 1, N do
  wg:Add(1)
  go(function(i, wg, fired, stopped)
    if i % 2 == 1 then
      local t = time.NewTimer((i % 7) * 0.0005)
      t.C:recv()
      fired:Add(1)
    else
      local t = time.NewTimer(3600)
      if t:Stop() then stopped:Add(1) end
      t:Reset(0)
      t.C:recv()
    end
    wg:Done()
  end, i, wg, fired, stopped)
end
wg:Wait()
print("fired", fired:Load(), "stopped", stopped:Load())

local ran, M = atomic.Int64(), 10000
local done = sync.WaitGroup()
local timers = {}
for i = 1, M do
  if i % 2 == 1 then done:Add(1) end
  timers[i] = time.AfterFunc(i % 2 == 1 and 0 or 3600, function()
    ran:Add(1)
    done:Done()
  end)
end
local stops = 0
for i = 2, M, 2 do if timers[i]:Stop() then stops = stops + 1 end end
done:Wait()
print("AfterFunc ran", ran:Load(), "stopped", stops)
