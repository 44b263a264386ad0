-- trace_demo.lua: a pipeline worth looking at in the execution tracer.
--
-- Run it with:   lugo -p 2 -trace trace.html scripts/trace_demo.lua
-- then open trace.html in a browser (or write trace.json and load it in
-- ui.perfetto.dev). docs/trace.png is a picture of such a trace.
--
-- A producer hands jobs to 3 workers over an unbuffered channel; each job
-- is a burst of CPU work, so its run on a thread is wide enough to see.
-- Workers send their answers to the main goroutine and add to a tally
-- under a Mutex. A monitor goroutine sleeps and wakes a few times, so the
-- trace shows a timer waking a goroutine too. With -p 2 two goroutines run
-- at once; the others wait on channels (red "block" markers) until a
-- partner wakes them (blue "unblock" markers).

local NUM_WORKERS, NUM_JOBS = 3, 18

-- n steps of arithmetic (40,000 take about a millisecond here)
local function work(j, n)
  local x = 0
  for k = 1, n do x = (x + k * j) % 1000003 end
  return x
end

local jobs, results = chan(), chan()
local tally, mu = shared.table({done = 0}), sync.Mutex()
local wg = sync.WaitGroup()

go(function(jobs, n)                        -- the producer
  for j = 1, n do jobs:send(j) end
  jobs:close()
end, jobs, NUM_JOBS)

for w = 1, NUM_WORKERS do
  wg:Go(function(jobs, results, tally, mu, work)
    for j in jobs:range() do
      local answer = work(j, 40000 + 2000 * j)
      mu:Lock()
      tally.done = tally.done + 1
      mu:Unlock()
      results:send({job = j, answer = answer})
    end
  end, jobs, results, tally, mu, work)
end

local monitor = chan()
go(function(monitor)                        -- wakes up now and then
  for _ = 1, 4 do time.Sleep(time.Millisecond) end
  monitor:send(4)
end, monitor)

local answers, sum = {}, 0
for _ = 1, NUM_JOBS do
  local r = results:recv()
  answers[r.job] = r.answer
  sum = (sum + work(r.answer, 5000)) % 1000003   -- main works a little too
end
wg:Wait()
local naps = monitor:recv()

for j = 1, NUM_JOBS, 6 do
  print(string.format("jobs %2d-%2d: %7d %7d %7d %7d %7d %7d", j, j + 5,
                      answers[j], answers[j + 1], answers[j + 2],
                      answers[j + 3], answers[j + 4], answers[j + 5]))
end
print("jobs done: " .. tally.done .. ", checksum " .. sum)
print("monitor slept " .. naps .. " times")
