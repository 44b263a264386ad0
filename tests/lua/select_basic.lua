-- select_basic: Go's select with a table argument.
--   select { {recv = ch, function(v, ok) ... end},
--            {send = ch, value = x, function() ... end}, ... }
-- select returns what the chosen case's function returns; a case without a
-- function makes select return i, v, ok (receive) or i (send).

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local a, b = chan(1), chan(1)

-- receive with a handler: it gets (v, ok); its results are select's results
a:send(10)
local x, y, z = select {
  {recv = a, function(v, ok) return "a got", v, ok end},
  {recv = b, function(v, ok) return "b got", v, ok end},
}
check("recv handler gets v, ok and its results are returned", x == "a got" and y == 10 and z == true)

-- receive without a handler: i, v, ok
b:send("hi")
check("index form returns 3 values", select("#", select { {recv = a}, {recv = b} }) == 3)
b:send("hi")
local i, v, ok = select { {recv = a}, {recv = b} }
check("index form: 2, 'hi', true", i == 2 and v == "hi" and ok == true)

-- send without a handler: i; the value is delivered
i = select { {recv = a}, {send = b, value = "sent"} }
check("send index form returns the case index", i == 2)
check("value was delivered", b:recv() == "sent")

-- send with a handler (called after the value is sent)
x = select { {send = a, value = 5, function() return "after send" end} }
check("send handler result", x == "after send" and a:recv() == 5)

-- a handler that returns nothing makes select return nothing
a:send(1)
check("empty handler: no results", select("#", select { {recv = a, function() end} }) == 0)

-- a closed channel is always ready to receive: nil, false
local closed = chan()
closed:close()
i, v, ok = select { {recv = closed} }
check("closed: i, nil, false", i == 1 and v == nil and ok == false)
x, y = select { {recv = closed, function(v2, ok2) return v2, ok2 end} }
check("closed: handler gets nil, false", x == nil and y == false)

-- blocking select woken by another goroutine's send
local p, q = chan(), chan()
go(function() q:send("from q") end)
i, v, ok = select { {recv = p}, {recv = q} }
check("woken by a sender on the second case", i == 2 and v == "from q" and ok == true)

-- blocking select with a send case, taken by a receiver goroutine
local got = chan(1)
go(function() got:send((p:recv())) end)
i = select { {recv = q}, {send = p, value = "to p"} }
check("send case completed by a receiver", i == 2 and got:recv() == "to p")

-- blocking select woken by close
go(function() q:close() end)
i, v, ok = select { {recv = p}, {recv = q} }
check("woken by close: 2, nil, false", i == 2 and v == nil and ok == false)

-- the same channel in two cases: the value is delivered once
local d = chan(1)
d:send("once")
i, v = select { {recv = d}, {recv = d} }
local _, _, again = d:tryrecv()
check("same channel twice: one delivery", (i == 1 or i == 2) and v == "once" and again == false)

-- a timeout case with time.After (the other channel never gets a value)
local never = chan()
x = select {
  {recv = never, function() return "impossible" end},
  {recv = time.After(0.01), function() return "timeout" end},
}
check("time.After timeout case", x == "timeout")

-- the loop pattern: index form, exit when every input is closed
local c1, c2 = chan(), chan()
go(function() for n = 1, 50 do c1:send(n) end c1:close() end)
go(function() for n = 51, 100 do c2:send(n) end c2:close() end)
local sum, open1, open2 = 0, true, true
while open1 or open2 do
  local k, val, okv = select {
    {recv = open1 and c1},   -- `false` switches a case off
    {recv = open2 and c2},
  }
  if not okv then
    if k == 1 then open1 = false else open2 = false end
  else
    sum = sum + val
  end
end
check("select loop over two producers until both close", sum == 5050, sum)

-- handlers may do channel operations themselves
local req, resp = chan(), chan()
go(function()
  for n in req:range() do resp:send(n * n) end
end)
local results = {}
for n = 1, 3 do
  select {
    {send = req, value = n, function() results[#results + 1] = resp:recv() end},
  }
end
req:close()
check("blocking ops inside handlers", table.concat(results, ",") == "1,4,9")
print("done")
