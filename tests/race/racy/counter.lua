-- Read-modify-write counter: two goroutines do t.n = t.n + 1 with no lock.
-- Races: the read and the write of key "n" in one goroutine are ordered
-- with nothing in the other (main's wg:Wait only orders both before main).
local t = shared.table{n = 0}
local wg = sync.WaitGroup()
local function bump()
  for _ = 1, 3 do
    local v = t.n       -- RACE read
    t.n = v + 1         -- RACE write
  end
  wg:Done()
end
wg:Add(2)
go(bump)
go(bump)
wg:Wait()
print("done")
