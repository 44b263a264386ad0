-- time.Sleep used as synchronisation: main sleeps "long enough" after
-- starting a goroutine that writes t.x, then reads t.x. Sleep is not an
-- edge, so whatever the timing the write and the read are concurrent.
local t = shared.table{}
go(function()
  t.x = 1                 -- RACE write
end)
time.Sleep(0.01)
local v = t.x             -- RACE read
while runtime.NumGoroutine() > 1 do runtime.Gosched() end
print("done")
