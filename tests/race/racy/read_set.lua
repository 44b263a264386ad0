-- Concurrent reads form a read set: three goroutines read t.x; a writer
-- then waits for two of them (channel edges) but not the third and writes
-- t.x. The write must be checked against every read: the third reader's
-- read is unordered with it.
local t = shared.table{x = 0}
local c1, c2 = chan(), chan()
local wg = sync.WaitGroup()
wg:Add(4)
go(function() local v = t.x; c1:send(true); wg:Done() end)
go(function() local v = t.x; c2:send(true); wg:Done() end)
go(function()
  local v = t.x           -- RACE the reader nobody waits for
  wg:Done()
end)
go(function()
  c1:recv(); c2:recv()
  t.x = 1                 -- RACE write after only two of the reads
  wg:Done()
end)
wg:Wait()
print("done")
