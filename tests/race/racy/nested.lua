-- Racing on a nested shared table: two goroutines write t.inner.x. The
-- reads of t.inner do not race each other; the two writes of key "x" in
-- the nested table are ordered by nothing.
local t = shared.table{inner = {x = 0}}
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  t.inner.x = 1           -- RACE write A
  wg:Done()
end)
go(function()
  t.inner.x = 2           -- RACE write B
  wg:Done()
end)
wg:Wait()
print("done")
