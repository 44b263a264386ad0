-- stress_chan_buffered: 8 producers and 8 consumers move 1,000,000 integers
-- through one channel. Every value 1..1e6 is sent exactly once; the
-- consumers' counts, sums and sums of squares must add up exactly, and each
-- consumer must see each producer's values in increasing order (FIFO).
-- stress_chan_unbuffered runs this same file with CAPACITY = 0.

local CAP = CAPACITY or 128
local P, C = 8, 8
local TOTAL = 1000000
local PER = TOTAL // P

local data = chan(CAP)
local produced = chan(P)
local consumed = chan(C)

for p = 0, P - 1 do
  go(function()
    for j = 0, PER - 1 do data:send(p + 1 + P * j) end
    produced:send(true)
  end)
end

for _ = 1, C do
  go(function()
    local n, sum, sumsq, fifo = 0, 0, 0, true
    local last = {}
    for p = 0, P - 1 do last[p] = 0 end
    for v in data:range() do
      local p = (v - 1) % P
      if v <= last[p] then fifo = false end
      last[p] = v
      n = n + 1
      sum = sum + v
      sumsq = sumsq + v * v
    end
    consumed:send({n = n, sum = sum, sumsq = sumsq, fifo = fifo})
  end)
end

for _ = 1, P do produced:recv() end
data:close()

local n, sum, sumsq, fifo = 0, 0, 0, true
for _ = 1, C do
  local r = consumed:recv()
  n, sum, sumsq = n + r.n, sum + r.sum, sumsq + r.sumsq
  fifo = fifo and r.fifo
end
print("capacity " .. data:cap())
print("count " .. n)
assert(n == TOTAL)
print("sum " .. sum)
assert(sum == TOTAL * (TOTAL + 1) // 2)
print("sum of squares " .. sumsq)
assert(sumsq == TOTAL * (TOTAL + 1) * (2 * TOTAL + 1) // 6)
print("per-producer FIFO " .. tostring(fifo))
assert(fifo)
