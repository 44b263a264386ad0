-- A close racing a send: a goroutine sends into a buffered channel (it
-- never blocks), main closes the channel once the sender has ended, seen
-- through NumGoroutine (no edge). No receive ever orders the send before
-- the close, so Go's close/send race is reported.
local ch = chan(1)
go(function()
  ch:send(1)              -- RACE send
end)
while runtime.NumGoroutine() > 1 do runtime.Gosched() end
ch:close()                -- RACE close
print("done")
