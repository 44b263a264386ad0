-- lugo benchmark: the 1,000-entry table of tablemsg handed to another
-- goroutine by reference -- a shared.table sent on a channel -- instead of
-- being copied; the receiver reads the same two fields.  Compare with the
-- tablemsg row (copying through a channel, Lanes style).
-- usage: lugo -p P sharemsg.lua [N=200000]
local N = tonumber(arg and arg[1]) or 200000

local function make()
  local t = {}
  for i = 1, 500 do t[i] = i * 1.5 end
  for i = 1, 500 do t["key" .. i] = "value" .. i end
  return t
end

local ch = chan(64)
local t0 = time.Now()
go(function(ch, n, t) for _ = 1, n do ch:send(t) end end, ch, N, shared.table(make()))
local sum = 0
for _ = 1, N do
  local t = ch:recv()
  sum = sum + t[500] + #t.key250
end
local elapsed = time.Now() - t0
assert(sum == N * (750 + 8), "sharemsg: wrong sum " .. sum)
print(string.format("sharemsg %.2f us/op", elapsed * 1e6 / N))
