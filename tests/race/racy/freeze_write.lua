-- shared.freeze(t) reads every key of t; another goroutine writes t.a at
-- the same time. Nothing orders the freeze's read of "a" and the write.
local t = shared.table{a = 1, b = 2}
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  local f = shared.freeze(t)    -- RACE reads "a"
  wg:Done()
end)
go(function()
  t.a = 10                      -- RACE write
  wg:Done()
end)
wg:Wait()
print("done")
