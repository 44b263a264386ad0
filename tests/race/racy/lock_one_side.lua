-- A Mutex held on one side only: goroutine A increments under mu, B
-- increments without it. Races: B never locks, so no Unlock -> Lock edge
-- ever orders B's accesses of "n" with A's.
local t = shared.table{n = 0}
local mu = sync.Mutex()
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  mu:Lock()
  t.n = t.n + 1           -- RACE locked side
  mu:Unlock()
  wg:Done()
end)
go(function()
  t.n = t.n + 1           -- RACE unlocked side
  wg:Done()
end)
wg:Wait()
print("done")
