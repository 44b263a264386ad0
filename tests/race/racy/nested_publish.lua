-- Publishing a nested table through a shared-table key without sync: the
-- writer stores t.inner = {...}, the reader spins on t.inner (Gosched is
-- no edge). The write and the reads of key "inner" are concurrent.
local t = shared.table{}
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  t.inner = {x = 1}             -- RACE write of "inner"
  wg:Done()
end)
go(function()
  while t.inner == nil do       -- RACE read of "inner"
    runtime.Gosched()
  end
  wg:Done()
end)
wg:Wait()
print("done")
