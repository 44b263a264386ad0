-- worker_pool.lua: a fixed number of workers share a queue of jobs.
--
-- Run it with:   lugo scripts/worker_pool.lua
--
-- 3 worker goroutines take jobs from the `jobs` channel and put their
-- answers on the `results` channel. Closing `jobs` tells the workers there
-- is nothing more to do: `for j in jobs:range()` ends once the channel is
-- closed and empty.

local NUM_WORKERS, NUM_JOBS = 3, 9

local function worker(id, jobs, results)
  for j in jobs:range() do
    time.Sleep(10 * time.Millisecond)          -- pretend the job takes a while
    results:send({job = j, answer = j * 2, worker = id})
  end
end

-- Buffered channels: main can queue all 9 jobs without waiting for workers.
local jobs = chan(NUM_JOBS)
local results = chan(NUM_JOBS)

for w = 1, NUM_WORKERS do
  go(worker, w, jobs, results)
end

for j = 1, NUM_JOBS do jobs:send(j) end
jobs:close()                                    -- no more jobs

-- Exactly one result per job. Which worker did which job, and in which
-- order they finish, changes from run to run, so we only print what does
-- not: the answers in job order, and their sum.
local answers, sum = {}, 0
for _ = 1, NUM_JOBS do
  local r = results:recv()
  answers[r.job] = r.answer
  sum = sum + r.answer
end
for j = 1, NUM_JOBS do
  print(string.format("job %d -> %d", j, answers[j]))
end
print("sum of results: " .. sum)
