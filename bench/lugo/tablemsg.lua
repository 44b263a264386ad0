-- lugo benchmark: a 1,000-entry table (500 array items, 500 string keys)
-- sent over a channel: copy out of the sender's state, into the
-- receiver's. A producer goroutine sends N of them; main receives.
-- usage: lugo -p P tablemsg.lua [N=20000]
local N = tonumber(arg and arg[1]) or 20000

local function make()
  local t = {}
  for i = 1, 500 do t[i] = i * 1.5 end
  for i = 1, 500 do t["key" .. i] = "value" .. i end
  return t
end

local ch = chan(64)
local t0 = time.Now()
go(function(ch, n, t) for _ = 1, n do ch:send(t) end end, ch, N, make())
local sum = 0
for _ = 1, N do
  local t = ch:recv()
  sum = sum + t[500] + #t.key250
end
local elapsed = time.Now() - t0
assert(sum == N * (750 + 8), "tablemsg: wrong sum " .. sum)
print(string.format("tablemsg %.2f us/op", elapsed * 1e6 / N))
