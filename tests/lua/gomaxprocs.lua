-- gomaxprocs: runtime.GOMAXPROCS changes the number of Ps while
-- goroutines run, up and down, 1,000 times; no goroutine is lost and the
-- counts end exact.
print("start", runtime.GOMAXPROCS())
print("query with 0", runtime.GOMAXPROCS(0), "with -1", runtime.GOMAXPROCS(-1))
print("set 4, previous", runtime.GOMAXPROCS(4))
print("now", runtime.GOMAXPROCS())
print("set 1, previous", runtime.GOMAXPROCS(1))
print("set 2, previous", runtime.GOMAXPROCS(2))
print("over the cap", runtime.GOMAXPROCS(1e6), runtime.GOMAXPROCS(2))
print(pcall(runtime.GOMAXPROCS, "x"))
print(pcall(runtime.GOMAXPROCS, 1.5))

-- 1,000 goroutines: half compute and yield, and keep going until the
-- 1,000 changes are over, so every change happens while they run; half
-- ping-pong on channels (a bounded number of rounds: a pair handing the
-- P back and forth keeps it for a whole time slice)
local N, ROUNDS = 1000, 50
local wg, sum, stop = sync.WaitGroup(), atomic.Int64(), atomic.Bool(false)
for i = 1, N do
  wg:Add(1)
  if i % 2 == 0 then
    go(function(wg, sum, stop)
      local x, r = 0, 0
      while r < ROUNDS or not stop:Load() do
        r = r + 1
        for k = 1, 200 do x = x + k % 7 end
        runtime.Gosched()
      end
      sum:Add(1)
      wg:Done()
    end, wg, sum, stop)
  else
    local c = chan()
    go(function(c, wg, sum)
      local r = 0
      while r < ROUNDS do r = r + 1 c:send(r) end
      c:close()
      sum:Add(1)
      wg:Done()
    end, c, wg, sum)
    wg:Add(1)
    go(function(c, wg, sum)
      local t, n = 0, 0
      for v in c:range() do t = t + v n = n + 1 end
      assert(t == n * (n + 1) // 2)
      sum:Add(1)
      wg:Done()
    end, c, wg, sum)
  end
end
-- change GOMAXPROCS 1,000 times while they run
local sizes = {1, 3, 2, 8, 1, 4, 2, 16, 1, 2}
local prev_ok = true
for k = 1, 1000 do
  local before = runtime.GOMAXPROCS(sizes[k % #sizes + 1])
  if k > 1 and before ~= sizes[(k - 1) % #sizes + 1] then prev_ok = false end
  runtime.Gosched()
end
stop:Store(true)
wg:Wait()
print("goroutines done", sum:Load(), "previous values right", prev_ok)
print("end", runtime.GOMAXPROCS(2))
