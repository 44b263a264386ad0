-- parallel_sum.lua: split an array over N goroutines and add up the parts.
--
-- Run it with:   lugo scripts/parallel_sum.lua
-- and compare:   lugo -p 1 scripts/parallel_sum.lua   (one CPU core only)
--
-- Goroutines run in parallel on all cores (GOMAXPROCS of them at a time).
-- Arguments are copied into each goroutine, so give each worker only its
-- own slice of the data, not the whole array.

local N = 1000000
local WORKERS = 4

local data = {}
for i = 1, N do data[i] = i end

-- Adds up one slice and reports the partial sum.
local function partial_sum(slice, first, results)
  local s = 0
  for i = 1, #slice do s = s + slice[i] end
  results:send({first = first, sum = s})
end

local results = chan(WORKERS)
local per = N // WORKERS
for w = 0, WORKERS - 1 do
  local first = w * per + 1
  local last = (w == WORKERS - 1) and N or (first + per - 1)
  go(partial_sum, table.move(data, first, last, 1, {}), first, results)
end

-- Partial sums arrive in whatever order the workers finish.
local parts, total = {}, 0
for _ = 1, WORKERS do
  local r = results:recv()
  parts[#parts + 1] = r
  total = total + r.sum
end
table.sort(parts, function(a, b) return a.first < b.first end)
for _, r in ipairs(parts) do
  print(string.format("slice from %7d: %d", r.first, r.sum))
end

-- Check against a plain sequential loop.
local expect = 0
for i = 1, N do expect = expect + data[i] end
print("total: " .. total .. (total == expect and " (matches the sequential sum)" or " (WRONG)"))
