-- pairs racing a write: pairs(t) reads every key it visits (its snapshot
-- holds "a", stored by main before the go statements) while another
-- goroutine overwrites t.a. Nothing orders the two.
local t = shared.table{a = 1, b = 2}
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  for k, v in pairs(t) do end   -- RACE reads "a" and "b"
  wg:Done()
end)
go(function()
  t.a = 10                      -- RACE write of "a"
  wg:Done()
end)
wg:Wait()
print("done")
