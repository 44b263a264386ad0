-- chan_unbuffered: chan() / chan(0) is a rendezvous: a send completes only
-- when a receiver has taken the value; values arrive in FIFO order, each
-- exactly once.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local c = chan()
check("cap of chan() is 0", c:cap() == 0)
check("len of chan() is 0", c:len() == 0 and #c == 0)
check("chan(0) is unbuffered too", chan(0):cap() == 0)
check("trysend with no receiver fails", c:trysend(1) == false)
local v, ok, ready = c:tryrecv()
check("tryrecv with no sender is not ready", v == nil and ok == false and ready == false)

-- recv returns two values, like Go's v, ok := <-ch
go(function() c:send(7) end)
check("recv gives value and true", select("#", c:recv()) == 2)
go(function() c:send(8) end)
local a, b = c:recv()
check("v, ok = 8, true", a == 8 and b == true)

-- rendezvous: the sender cannot finish send #N before we take value #N
local N = 5
local finished = chan(1)
go(function()
  for i = 1, N do c:send(i) end
  finished:send(true)
end)
for i = 1, N - 1 do
  local x = c:recv()
  assert(x == i)
end
local _, _, done_early = finished:tryrecv()
check("sender still blocked on its last send", done_early == false)
check("last value", c:recv() == N)
check("sender finished after the last recv", finished:recv() == true)

-- the log never shows "sent i+1" before "recv i" (nor "recv i+1" before "sent i")
local log = chan(100)
local M = 20
go(function()
  for i = 1, M do
    c:send(i)
    log:send("sent " .. i)
  end
end)
for _ = 1, M do
  local x = c:recv()
  log:send("recv " .. x)
end
local pos = {}
for n = 1, 2 * M do pos[log:recv()] = n end
local ordered = true
for i = 1, M - 1 do
  if not (pos["recv " .. i] < pos["sent " .. (i + 1)]) then ordered = false end
  if not (pos["sent " .. i] < pos["recv " .. (i + 1)]) then ordered = false end
end
check("send and recv proceed in lock step", ordered)

-- FIFO: a single sender's values arrive in order
local K = 1000
go(function() for i = 1, K do c:send(i) end end)
local inorder = true
for i = 1, K do
  if c:recv() ~= i then inorder = false end
end
check("1000 values in FIFO order", inorder)

-- every value exactly once with 4 senders and 4 receivers
local out = chan(4)
for s = 0, 3 do
  go(function() for i = 1, 250 do c:send(s * 250 + i) end end)
end
for _ = 1, 4 do
  go(function()
    local sum, cnt = 0, 0
    for _ = 1, 250 do sum = sum + c:recv(); cnt = cnt + 1 end
    out:send({sum, cnt})
  end)
end
local sum, cnt = 0, 0
for _ = 1, 4 do
  local r = out:recv()
  sum, cnt = sum + r[1], cnt + r[2]
end
check("4x4: each of 1000 values delivered exactly once", sum == 500500 and cnt == 1000, sum .. "/" .. cnt)
print("done")
