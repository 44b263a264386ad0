-- chan_values: what can travel on a channel. Values are copied at send time
-- (tables deeply, functions with their upvalues); nil cannot be sent
-- (`cannot send nil on a channel`), so a nil from recv always means closed;
-- false is an ordinary value.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local c = chan(10)
local function roundtrip(v) c:send(v); return c:recv() end

-- nil is refused, before any blocking, and nothing is enqueued
local ok, e = pcall(function() c:send(nil) end)
check("send(nil) raises", not ok and e:find("cannot send nil on a channel", 1, true), e)
ok, e = pcall(function() c:send() end)
check("send() raises", not ok and e:find("cannot send nil on a channel", 1, true), e)
ok, e = pcall(function() return c:trysend(nil) end)
check("trysend(nil) raises", not ok and e:find("cannot send nil on a channel", 1, true), e)
ok, e = pcall(function() chan():send(nil) end)
check("unbuffered send(nil) raises instead of blocking", not ok and e:find("cannot send nil", 1, true), e)
check("nothing was enqueued", #c == 0)

-- false is a value
local v, okv = roundtrip(false)
check("false, true", v == false and okv == true)

-- numbers keep their subtype and exact value
check("integer", math.type(roundtrip(42)) == "integer")
check("float 42.0 stays float", math.type(roundtrip(42.0)) == "float")
check("maxinteger", roundtrip(math.maxinteger) == math.maxinteger)
check("mininteger", roundtrip(math.mininteger) == math.mininteger)
check("pi exact", roundtrip(math.pi) == math.pi)
check("huge", roundtrip(math.huge) == math.huge and roundtrip(-math.huge) == -math.huge)
local nan = roundtrip(0 / 0)
check("nan", nan ~= nan)
check("-0.0", 1 / roundtrip(-0.0) == -math.huge)

-- strings are byte strings
local bytes = {}
for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
bytes = table.concat(bytes)
check("all 256 byte values", roundtrip(bytes) == bytes)
check("empty string", roundtrip("") == "")

-- tables: copied at send time, keys of every kind, nesting, cycles
local t = {1, 2, 3, name = "t", [2.5] = "float key", [true] = "bool key", nested = {deep = {x = 1}}}
t.me = t
c:send(t)
t.name = "changed after send"
t[1] = 100
local r = c:recv()
check("copy taken at send time", r.name == "t" and r[1] == 1)
check("array part", #r == 3 and r[3] == 3)
check("float and boolean keys", r[2.5] == "float key" and r[true] == "bool key")
check("nested", r.nested.deep.x == 1)
check("cycle", r.me == r)

local keyt = {}
local tk = {[keyt] = "table as key", ref = keyt}
r = roundtrip(tk)
check("table key is the same copy as the referenced table", r[r.ref] == "table as key")

local deep = {}
local cur = deep
for i = 1, 500 do cur.next = {i = i}; cur = cur.next end
r = roundtrip(deep)
local depth = 0
cur = r
while cur.next do cur = cur.next; depth = depth + 1 end
check("500-deep nesting", depth == 500 and cur.i == 500)

local arr = {}
for i = 1, 10000 do arr[i] = i end
r = roundtrip(arr)
local s = 0
for _, x in ipairs(r) do s = s + x end
check("10000-element array", #r == 10000 and s == 50005000)

-- metatables travel with their tables
local Vec = {__add = function(a, b) return setmetatable({x = a.x + b.x}, getmetatable(a)) end,
             __index = function(_, k) return "missing " .. k end}
local a = setmetatable({x = 1}, Vec)
local b = setmetatable({x = 2}, Vec)
r = roundtrip({a, b})
local sum = r[1] + r[2]
check("metatable and metamethods", sum.x == 3 and sum.foo == "missing foo")
check("shared metatable stays shared", getmetatable(r[1]) == getmetatable(r[2]))

-- functions travel with their upvalues, to another goroutine
local k = 10
local function addk(x) return x + k end
local fc = chan()
local out = chan()
go(function()
  local f = fc:recv()
  out:send(f(5))
end)
fc:send(addk)
check("function with upvalue runs in the receiver", out:recv() == 15)

-- a closure over a table: the table travels too
local cfg = {scale = 3}
local function scale(x) return x * cfg.scale end
go(function()
  local f = fc:recv()
  out:send(f(7))
end)
fc:send(scale)
check("closure over a table", out:recv() == 21)

-- standard library functions and tables are the receiver's own
go(function()
  local lib = fc:recv()
  out:send(lib.fmt("%d-%s", 1, "x") .. " " .. tostring(lib.str == string))
end)
fc:send({fmt = string.format, str = string})
check("stdlib values arrive as the receiver's own", out:recv() == "1-x true")
print("done")
