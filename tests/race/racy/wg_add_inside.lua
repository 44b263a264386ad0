-- wg:Add inside the goroutine (Go's misuse): the Add from zero is not
-- ordered before main's blocking Wait. Races: Add-from-zero reads the
-- WaitGroup and the first blocking Wait writes it. The program forces the
-- Add to come first and Wait to block, through signals that are not edges:
-- a helper goroutine (seen by NumGoroutine) and runtime.Stack's status.
local wg = sync.WaitGroup()
go(function()
  wg:Add(1)                                     -- RACE Add from zero
  go(function() chan():recv() end)              -- "Add done": a 3rd goroutine
  while not runtime.Stack(true):find("[sync.WaitGroup.Wait]", 1, true) do
    runtime.Gosched()                           -- until main blocks in Wait
  end
  wg:Done()
end)
while runtime.NumGoroutine() < 3 do runtime.Gosched() end
wg:Wait()                                       -- RACE blocking Wait
print("done")
