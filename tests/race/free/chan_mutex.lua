-- A buffered channel of capacity 1 used as a mutex: the k-th receive
-- ("unlock") -> the (k+1)-th send ("lock") completes, so every critical
-- section follows the previous one. Four goroutines increment t.n. No race.
local t = shared.table{n = 0}
local sem = chan(1)
local wg = sync.WaitGroup()
for _ = 1, 4 do
  wg:Add(1)
  go(function()
    for _ = 1, 50 do
      sem:send(true)      -- lock
      t.n = t.n + 1
      sem:recv()          -- unlock
    end
    wg:Done()
  end)
end
wg:Wait()
print("n", t.n)
