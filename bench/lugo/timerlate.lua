-- lugo benchmark: how late timers fire on an otherwise idle machine.
-- K goroutines, all started first (they wait on a gate), each sleep a
-- different duration between 1 and 50 ms and measure how far past their
-- deadline they woke; prints the median (the 99th percentile goes to
-- stderr).
-- usage: lugo -p P timerlate.lua [K=2000]
local K = tonumber(arg and arg[1]) or 2000
local out, gate, ready = chan(K), chan(), sync.WaitGroup()
for i = 1, K do
  ready:Add(1)
  go(function(i, out, gate, ready)
    ready:Done()
    gate:recv()
    local d = 0.001 + (i % 50) * 0.001
    local due = time.Now() + d
    time.Sleep(d)
    out:send(time.Now() - due)
  end, i, out, gate, ready)
end
ready:Wait()
gate:close()
local late = {}
for i = 1, K do late[i] = out:recv() end
table.sort(late)
io.stderr:write(string.format("timerlate p99 %.1f us, max %.1f us\n",
  late[math.ceil(K * 0.99)] * 1e6, late[K] * 1e6))
print(string.format("timerlate %.1f us", late[K // 2] * 1e6))
