-- sync.Once bypassed: one goroutine initialises t.cfg inside once:Do, the
-- other reads t.cfg without calling Do, so it never acquires the edge
-- from the Once's function.
local t = shared.table{}
local once = sync.Once()
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  once:Do(function()
    t.cfg = "on"          -- RACE write in the Once
  end)
  wg:Done()
end)
go(function()
  local c = t.cfg         -- RACE read without Do
  wg:Done()
end)
wg:Wait()
print("done")
