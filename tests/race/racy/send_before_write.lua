-- A channel operation in the wrong order: the goroutine sends on an
-- unbuffered channel BEFORE writing t.x, so the send <-> receive edge does
-- not cover the write; main's read after its receive is concurrent with it.
local t = shared.table{}
local ch = chan()
go(function()
  ch:send(true)
  t.x = 1                 -- RACE write after the send
end)
ch:recv()
local v = t.x             -- RACE read after the receive
while runtime.NumGoroutine() > 1 do runtime.Gosched() end
print("done")
