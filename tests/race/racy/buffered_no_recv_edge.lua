-- A buffered channel gives no receive -> send edge for the same item (only
-- unbuffered ones do): the goroutine writes t.x then receives; main sends
-- (into the buffer, without waiting) and reads t.x. Unordered.
local t = shared.table{}
local ch = chan(1)
go(function()
  t.x = 1                 -- RACE write before the receive
  ch:recv()
end)
ch:send(true)
local v = t.x             -- RACE read after the send
while runtime.NumGoroutine() > 1 do runtime.Gosched() end
print("done")
