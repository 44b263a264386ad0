-- An AfterFunc timer stopped and Reset: what main did before Reset
-- precedes fn. Main writes t.x after arming (so arming alone would not
-- cover it), stops the timer before it fires, and Resets it. No race.
local t = shared.table{}
local done = chan()
local tm = time.AfterFunc(3600, function()
  t.y = t.x .. "+fn"
  done:send(true)
end)
t.x = "before reset"
print("stopped", tm:Stop())
tm:Reset(0.001)
done:recv()
print(t.y)
