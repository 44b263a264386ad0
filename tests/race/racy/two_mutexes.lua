-- Each goroutine locks its own Mutex around the same counter. Races: an
-- Unlock only orders later Locks of the same Mutex, so muA and muB order
-- nothing between the two goroutines.
local t = shared.table{n = 0}
local muA, muB = sync.Mutex(), sync.Mutex()
local wg = sync.WaitGroup()
local function bump(mu)
  mu:Lock()
  local v = t.n           -- RACE read
  t.n = v + 1             -- RACE write
  mu:Unlock()
  wg:Done()
end
wg:Add(2)
go(bump, muA)
go(bump, muB)
wg:Wait()
print("done")
