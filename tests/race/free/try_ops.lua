-- Non-blocking channel operations carry the same edges: the producer writes
-- t[i] then trysends i (retrying while full); the consumer polls with
-- tryrecv and reads t[i]. A select with a default case does the same for
-- the reply. No race.
local t = shared.table{}
local ch, reply = chan(1), chan(1)
go(function()
  local sum = 0
  while sum < 6 do
    local i, ok, ready = ch:tryrecv()
    if ok then sum = sum + t[i] else runtime.Gosched() end
  end
  t.sum = sum
  reply:send(true)
end)
for i = 1, 3 do
  t[i] = i
  while not ch:trysend(i) do runtime.Gosched() end
end
local got = false
while not got do
  select { {recv = reply, function() got = true end}, default = runtime.Gosched }
end
print("sum", t.sum)
