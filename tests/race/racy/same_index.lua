-- Two goroutines store the same integer index t[1] of an empty table.
-- Two stores that move the border do not race each other on "length (#)",
-- but they do race on key 1 itself: nothing orders them.
local t = shared.table{}
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  t[1] = "a"              -- RACE write A
  wg:Done()
end)
go(function()
  t[1] = "b"              -- RACE write B
  wg:Done()
end)
wg:Wait()
print("done")
