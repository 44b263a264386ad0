-- the traced program of tests/trace/run.sh: main spawns 3 goroutines; two
-- ping-pong over unbuffered channels (in every round trip one of them
-- must wait), one sleeps (a timer wakes it); a WaitGroup waits for all
local wg = sync.WaitGroup()
local ping, pong = chan(), chan()
wg:Add(3)
go(function(ping, pong, wg)
  for i = 1, 100 do ping:send(i) assert(pong:recv() == i) end
  ping:close()
  wg:Done()
end, ping, pong, wg)
go(function(ping, pong, wg)
  for v in ping:range() do pong:send(v) end
  wg:Done()
end, ping, pong, wg)
go(function(wg) time.Sleep(0.001) wg:Done() end, wg)
wg:Wait()
print("done")
