-- #t racing an append: one goroutine appends t[1] to the empty table (it moves
-- the border, i.e. writes "length (#)"), another reads #t. Nothing orders
-- them. (The appender's own #t read does not race the other's read.)
local t = shared.table{}
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  t[1] = "a"              -- RACE append: moves #t from 0 to 1
  wg:Done()
end)
go(function()
  local n = #t            -- RACE read of the border
  wg:Done()
end)
wg:Wait()
print("done")
