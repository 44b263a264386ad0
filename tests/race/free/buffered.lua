-- Buffered channel, k-th send -> k-th receive: the producer writes t[i]
-- then sends i; the consumer receives i and reads t[i]. The producer runs
-- ahead into the buffer (cap 3) and the reads are still ordered. No race.
local t = shared.table{}
local ch = chan(3)
local done = chan()
go(function()
  local sum = 0
  for _ = 1, 10 do
    local i = ch:recv()
    sum = sum + t[i]      -- written before the i-th send
  end
  print("sum", sum)
  done:send(true)
end)
for i = 1, 10 do
  t[i] = i * i
  ch:send(i)
end
done:recv()
