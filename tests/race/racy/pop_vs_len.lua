-- Deleting the last element (t[#t] = nil) moves the border down: it
-- writes "length (#)", racing another goroutine's #t.
local t = shared.table{"a", "b", "c"}
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  t[3] = nil              -- RACE pop: #t 3 -> 2
  wg:Done()
end)
go(function()
  local n = #t            -- RACE read of the border
  wg:Done()
end)
wg:Wait()
print("done")
