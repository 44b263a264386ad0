-- #t only conflicts with stores that move the border: one goroutine reads
-- #t repeatedly while another writes t.name (a non-integer key), t[10]
-- (beyond a gap: #t stays 1) and overwrites the existing t[1]. None of
-- these stores writes "length (#)", and they touch other keys. No race.
local t = shared.table{"first"}
local wg = sync.WaitGroup()
local lens = atomic.Int64(0)
wg:Add(2)
go(function()
  for _ = 1, 50 do lens:Add(#t) end
  wg:Done()
end)
go(function()
  for i = 1, 50 do t.name = "n" .. i end
  t[10] = "ten"
  t[1] = "again"
  wg:Done()
end)
wg:Wait()
print(lens:Load(), #t, t.name, t[1], t[10])
