-- lugo benchmark: fan-in. 4 producer goroutines each send N/4 ints into one
-- chan(128); main is the single consumer and receives all of them.
-- Reports millions of messages per second.
-- usage: lugo -p P fanin.lua [N=1000000]
local N = tonumber(arg and arg[1]) or 1000000
local P = 4
local per = N // P
local total = per * P

local function producer(ch, n)
  for i = 1, n do
    ch:send(i)
  end
end

local ch = chan(128)
local t0 = time.Now()
for _ = 1, P do
  go(producer, ch, per)
end
local sum = 0
for _ = 1, total do
  sum = sum + ch:recv()
end
local elapsed = time.Now() - t0

assert(sum == P * per * (per + 1) // 2, "fanin: wrong sum " .. sum)
print(string.format("fanin %.3f Mmsg/s", total / elapsed / 1e6))
