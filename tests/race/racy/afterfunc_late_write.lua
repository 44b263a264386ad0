-- A write after arming time.AfterFunc: arming orders what came before it
-- before fn, not what comes after. fn reads t.x; main writes t.x after
-- arming. fn's done:Store orders fn before main's end, not the write.
local t = shared.table{}
local done = atomic.Bool(false)
time.AfterFunc(0, function()
  local v = t.x           -- RACE read in fn
  done:Store(true)
end)
t.x = 1                   -- RACE write after arming
while not done:Load() do runtime.Gosched() end
print("done")
