-- Publication without synchronisation: the writer stores t.data then sets
-- t.ready; the reader spins on t.ready (Gosched, no edge) and reads
-- t.data. Races: the shared table's own lock orders nothing, so the write
-- and the read of "data" are concurrent in every interleaving.
local t = shared.table{ready = false}
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  t.data = 42             -- RACE write data
  t.ready = true
  wg:Done()
end)
go(function()
  while not t.ready do runtime.Gosched() end
  local v = t.data        -- RACE read data
  wg:Done()
end)
wg:Wait()
print("done")
