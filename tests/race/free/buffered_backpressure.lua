-- The k-th receive -> the (k+C)-th send completes (C = 1): main fills the
-- buffer with send #1; the goroutine writes t.x and then receives #1; main's
-- send #2 can only complete after that receive, so main may read t.x. No
-- race.
local t = shared.table{}
local ch = chan(1)
local done = chan()
ch:send(1)                -- fills the buffer
go(function()
  t.x = "written before receive #1"
  ch:recv()
  ch:recv()
  done:send(true)
end)
ch:send(2)                -- completes after receive #1
print(t.x)
done:recv()
