-- stress_spawn: spawning and joining many goroutines.
--   1. 100,000 goroutines spawned and joined over one channel
--   2. 10,000 goroutines all parked at the same time, then released
--   3. a binary tree of goroutines, each spawning its two children

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

-- 1 ---------------------------------------------------------------------------
local N = 100000
local results = chan(N)          -- big enough that no goroutine ever blocks
local seen, distinct = {}, true
for i = 1, N do
  local id = go(function(k) results:send(k) end, i)
  if seen[id] then distinct = false end
  seen[id] = true
end
local sum = 0
for _ = 1, N do sum = sum + results:recv() end
check("100000 goroutines joined", sum == N * (N + 1) // 2, sum)
check("100000 distinct ids", distinct)
seen = nil

-- 2 ---------------------------------------------------------------------------
local P = 10000
local gate = chan()
local back = chan(P)
for i = 1, P do
  go(function()
    gate:recv()                  -- parks until main closes the gate
    back:send(i)
  end)
end
gate:close()
sum = 0
for _ = 1, P do sum = sum + back:recv() end
check("10000 parked goroutines released by one close", sum == P * (P + 1) // 2)

-- 3 ---------------------------------------------------------------------------
local function tree(depth, out)
  if depth == 0 then out:send(1); return end
  local left, right = chan(), chan()
  go(tree, depth - 1, left)
  go(tree, depth - 1, right)
  out:send(1 + left:recv() + right:recv())
end
local top = chan()
go(tree, 13, top)
check("binary tree of 2^14 - 1 goroutines", top:recv() == (1 << 14) - 1)
print("done")
