-- go_chanref: channels cross goroutines BY REFERENCE. A channel that enters
-- a goroutine several times (as argument, upvalue, inside tables, over other
-- channels) is the same Lua value each time (interned per goroutine), so ==
-- and table keys work. Identity is only ever compared inside one goroutine.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local a = chan(10)
local pipe = chan()
local report = chan()

go(function(arg_a)
  local x1 = pipe:recv()
  local x2 = pipe:recv()
  local t = pipe:recv()
  local keys = {}
  keys[x1] = "v"
  report:send({
    two_sends = x1 == x2,
    in_table = t[1] == x1 and t[2] == x1 and t.k == x1,
    as_key = keys[x2] == "v" and keys[t.k] == "v",
    arg_and_upvalue = arg_a == a and arg_a == x1,
  })
  x1:send("through the received reference")
  pipe:send(x2)          -- send it back to its creator
end, a)

pipe:send(a)
pipe:send(a)
pipe:send({a, a, k = a})
local r = report:recv()
check("same channel received twice is ==", r.two_sends)
check("channel inside a table is the same value", r.in_table)
check("channel usable as a table key", r.as_key)
check("argument and upvalue are the same value", r.arg_and_upvalue)
check("operations act on the one channel", a:recv() == "through the received reference")
local back = pipe:recv()
check("channel coming back to its creator is == the original", back == a)

-- closing through another goroutine's reference closes the one channel
local c = chan(1)
go(function(ch) ch:send(1); ch:close() end, c)
local v1, ok1 = c:recv()
local v2, ok2 = c:recv()
check("value then closed, via the other goroutine's reference",
  v1 == 1 and ok1 == true and v2 == nil and ok2 == false)

-- request/response: requests carry their own reply channel
local requests = chan()
go(function()
  for req in requests:range() do
    req.reply:send(req.n * 2)
  end
end)
local replies = {}
for i = 1, 5 do
  replies[i] = chan(1)
  requests:send({n = i, reply = replies[i]})
end
requests:close()
local got = {}
for i = 1, 5 do got[i] = replies[i]:recv() end
check("each reply on its own channel", table.concat(got, ",") == "2,4,6,8,10", table.concat(got, ","))

-- many clients at once, each with its own reply channel
local results = chan(20)
local server = chan()
go(function()
  for req in server:range() do req.reply:send(req.n + 1000) end
end)
for i = 1, 20 do
  go(function(n)
    local mine = chan()
    server:send({n = n, reply = mine})
    local v = mine:recv()
    results:send(v - 1000 == n and 1 or 0)
  end, i)
end
local good = 0
for _ = 1, 20 do good = good + results:recv() end
server:close()
check("20 concurrent clients got their own replies", good == 20, good)
print("done")
