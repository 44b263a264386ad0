-- time.AfterFunc: arming -> fn. Main writes t.x before arming; fn reads it
-- and reports on a channel (send -> receive orders fn's write of t.y
-- before main's read). No race.
local t = shared.table{}
local done = chan()
t.x = 21
time.AfterFunc(0.001, function()
  t.y = t.x * 2
  done:send(true)
end)
done:recv()
print("y", t.y)
