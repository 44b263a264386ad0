-- chan_close: close(); receivers drain what is buffered and then get
-- nil, false forever; send on a closed channel raises; closing twice raises;
-- close wakes blocked receivers (nil, false) and blocked senders (raise).

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local c = chan(3)
c:send(1)
c:send(2)
c:close()
check("len still counts buffered values after close", #c == 2)
local v, ok = c:recv()
check("drain 1", v == 1 and ok == true)
v, ok = c:recv()
check("drain 2", v == 2 and ok == true)
v, ok = c:recv()
check("then nil, false", v == nil and ok == false)
v, ok = c:recv()
check("and again nil, false", v == nil and ok == false)
check("two results even when closed", select("#", c:recv()) == 2)

local e
ok, e = pcall(function() c:send(3) end)
check("send on closed channel raises", not ok and e:find("send on closed channel", 1, true), e)
ok, e = pcall(function() c:close() end)
check("close of closed channel raises", not ok and e:find("close of closed channel", 1, true), e)
ok, e = pcall(function() c:trysend(3) end)
check("trysend on closed channel raises", not ok and e:find("send on closed channel", 1, true), e)

local u = chan()
u:close()
v, ok = u:recv()
check("closed unbuffered: nil, false", v == nil and ok == false)

-- error message carries the position of the failing call, like any Lua error
ok, e = pcall(function() u:send(1) end)
check("error has file:line", not ok and e:match("^chan_close%.lua:%d+: ") ~= nil, e)

-- close wakes every blocked receiver with nil, false
local r = chan()
local results = chan(10)
for _ = 1, 10 do
  go(function()
    local x, okr = r:recv()
    results:send(tostring(x) .. "/" .. tostring(okr))
  end)
end
r:close()
local all = true
for _ = 1, 10 do
  if results:recv() ~= "nil/false" then all = false end
end
check("close woke 10 receivers with nil, false", all)

-- close wakes blocked senders, whose send raises (caught here with pcall)
local s = chan()
for i = 1, 5 do
  go(function()
    local oks, err = pcall(function() s:send(i) end)
    results:send(not oks and err:find("send on closed channel", 1, true) ~= nil)
  end)
end
s:close()
local raised = 0
for _ = 1, 5 do
  if results:recv() then raised = raised + 1 end
end
check("close made 5 blocked senders raise", raised == 5, raised)

-- a receiver gets everything sent before the close, then nil, false
local d = chan()
go(function()
  for i = 1, 100 do d:send(i) end
  d:close()
end)
local sum, n = 0, 0
while true do
  local x, okd = d:recv()
  if not okd then break end
  sum, n = sum + x, n + 1
end
check("all values before close, then closed", sum == 5050 and n == 100)

-- close is seen by many receivers of a buffered channel after they drain it
local b = chan(50)
for i = 1, 50 do b:send(i) end
b:close()
for _ = 1, 4 do
  go(function()
    local s2, n2 = 0, 0
    for x in b:range() do s2, n2 = s2 + x, n2 + 1 end
    results:send({s2, n2})
  end)
end
sum, n = 0, 0
for _ = 1, 4 do
  local t = results:recv()
  sum, n = sum + t[1], n + t[2]
end
check("4 receivers drained a closed buffer exactly once", sum == 1275 and n == 50)
print("done")
