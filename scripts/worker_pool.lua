-- worker_pool.lua: Go's classic worker pool. Three workers take jobs from
-- one channel and send results on another; main closes `jobs` when all are
-- queued, and collects exactly as many results as it sent jobs.
local jobs, results = chan(100), chan(100)

local function worker(id, jobs, results)
  for j in jobs:range() do          -- ends when jobs is closed and drained
    results:send(j * 2)
  end
end

for w = 1, 3 do go(worker, w, jobs, results) end
for j = 1, 9 do jobs:send(j) end
jobs:close()

local sum = 0
for _ = 1, 9 do sum = sum + results:recv() end
print("sum of results:", sum)
