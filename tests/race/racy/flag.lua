-- Unsynchronised stop flag: a worker polls t.stop with runtime.Gosched
-- (no edge) while main sets it. Races: main's write of "stop" and the
-- worker's reads are ordered by nothing (Gosched and NumGoroutine are not
-- edges), and both always happen.
local t = shared.table{stop = false}
go(function()
  while not t.stop do   -- RACE read
    runtime.Gosched()
  end
end)
t.stop = true           -- RACE write
while runtime.NumGoroutine() > 1 do runtime.Gosched() end
print("done")
