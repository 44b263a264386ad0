-- pingpong_long: two goroutines handing one time slice back and forth
-- through runnext for far longer than a slice (-p 1). sysmon must see them
-- switching (not stuck in C code), preempt the pair as a pair, and never
-- take their processor or call them deadlocked.
local N = 200000
local ping, pong = chan(), chan()
go(function(ping, pong, n)
  for _ = 1, n do pong:send(ping:recv() + 1) end
end, ping, pong, N)
-- a third goroutine that only gets to run if the pair is preempted
local other = chan(1)
go(function(other) other:send("other ran") end, other)
local v = 0
for _ = 1, N do
  ping:send(v)
  v = pong:recv()
end
print(v, (other:recv()))
