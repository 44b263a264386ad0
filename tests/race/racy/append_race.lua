-- Two goroutines append with t[#t + 1] = v, split in two steps. The reads
-- of #t don't race each other, but each store moves the border (writes
-- "length (#)") and the other goroutine's #t read is not ordered with it:
-- reported whichever goroutine goes first.
local t = shared.table{}
local wg = sync.WaitGroup()
local function append(v)
  local n = #t            -- RACE read of the border
  t[n + 1] = v            -- RACE store that moves the border
  wg:Done()
end
wg:Add(2)
go(append, "a")
go(append, "b")
wg:Wait()
print("done")
