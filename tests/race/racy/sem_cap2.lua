-- A buffered channel of capacity 2 used as a semaphore around a counter
-- with 3 goroutines: the first two sends never wait for a receive (only
-- the k-th receive -> (k+2)-th send edge exists), so two goroutines are
-- inside at once and their accesses of "n" are unordered.
local t = shared.table{n = 0}
local sem = chan(2)
local wg = sync.WaitGroup()
local function worker()
  sem:send(true)          -- "acquire"
  local v = t.n           -- RACE read
  t.n = v + 1             -- RACE write
  sem:recv()              -- "release"
  wg:Done()
end
wg:Add(3)
for _ = 1, 3 do go(worker) end
wg:Wait()
print("done")
