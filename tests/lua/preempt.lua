-- preempt: with a single processor (-p 1, see preempt.args), goroutines stuck
-- in pure-Lua infinite loops are preempted (sysmon flags any goroutine that
-- ran > 10 ms), so the other goroutines, and main itself, still make
-- progress. Without preemption this test hangs until the runner's timeout.

go(function() while true do end end)                            -- empty loop
go(function() local x = 0; while true do x = x + 1 end end)     -- arithmetic
go(function() pcall(function() while true do end end) end)      -- inside pcall
go(function() while true do local _ = math.sin(1) .. "" end end) -- C calls + allocation
local function forever(n) if n > 0 then return forever(n - 1) end return forever(1000) end
go(function() forever(1000) end)                                -- tail calls

-- a channel exchange with another goroutine still completes
local ping, pong = chan(), chan()
go(function()
  for v in ping:range() do pong:send(v * 2) end
end)
local sum = 0
for i = 1, 5 do
  ping:send(i)
  sum = sum + pong:recv()
end
print("ping-pong sum", sum)

-- main itself busy-polls (no Gosched, no blocking): only preemption of main
-- lets the goroutine below run
local got = chan(1)
go(function() got:send("ran while main was spinning") end)
local msg
while true do
  local v, _, ready = got:tryrecv()
  if ready then msg = v; break end
end
print(msg)

os.exit(0)
