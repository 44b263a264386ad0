-- ipairs racing a store: ipairs(t) reads t[1], t[2], t[3] (all present
-- from main, before the go statements) while another goroutine stores
-- t[2]. Nothing orders the read of key 2 and the write.
local t = shared.table{10, 20, 30}
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  for i, v in ipairs(t) do end  -- RACE read of [2]
  wg:Done()
end)
go(function()
  t[2] = 200                    -- RACE write of [2]
  wg:Done()
end)
wg:Wait()
print("done")
