-- go_basics: go() returns distinct integer ids; the function, its arguments
-- and the globals it reads are COPIED into the new goroutine as one graph
-- (cycles and repeated references kept, metatables copied, integer/float
-- subtypes kept); the copies are independent of the spawner's values.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local res = chan()

-- ids ----------------------------------------------------------------------
local done = chan(100)
local ids = {}
for i = 1, 100 do
  ids[i] = go(function(n) done:send(n) end, i)
end
local sum = 0
for _ = 1, 100 do sum = sum + done:recv() end
local integers, distinct, seen = true, true, {}
for _, id in ipairs(ids) do
  if math.type(id) ~= "integer" or id < 1 or id == 1 then integers = false end
  if seen[id] then distinct = false end
  seen[id] = true
end
check("go returns integer ids (main is 1)", integers)
check("ids are distinct", distinct)
check("all 100 goroutines ran", sum == 5050)

-- arguments of every plain type, subtypes kept, trailing nils counted --------
go(function(...)
  local a, b, c, d, e, f = ...
  res:send({select("#", ...), math.type(a), math.type(b), c, #c, d, e == nil, f})
end, 3, 3.0, "a\0b", true, nil, false, nil)
local r = res:recv()
check("argument count kept", r[1] == 7)
check("integer stays integer", r[2] == "integer")
check("float stays float", r[3] == "float")
check("string with NUL intact", r[4] == "a\0b" and r[5] == 3)
check("booleans and nil", r[6] == true and r[7] == true and r[8] == false)

-- the goroutine works on its own copy ----------------------------------------
local orig = {n = 1, list = {1, 2, 3}}
go(function(t)
  local seen_n, seen_1 = t.n, t.list[1]
  t.n = 99           -- changes only this goroutine's copy
  t.list[1] = 100
  res:send({seen_n = seen_n, seen_1 = seen_1, t = t})
end, orig)
orig.n = 2           -- after go(): the copy was already taken
r = res:recv()
check("copy taken at go time", r.seen_n == 1 and r.seen_1 == 1)
check("goroutine's writes stay in its copy", orig.n == 2 and orig.list[1] == 1)
check("changed copy came back as a new table", r.t ~= orig and r.t.n == 99 and r.t.list[1] == 100)

-- one graph: cycles, repeated references, same table via upvalue and args ----
local node = {name = "a"}
node.self = node
local shared = {tag = "s"}
local graph = {x = shared, y = shared, node = node, list = {shared, shared}}
go(function(g, s2, n2)
  res:send({
    cycle = g.node.self == g.node and g.node.name == "a",
    repeated = g.x == g.y and g.list[1] == g.x and g.list[2] == g.x,
    across_args = g.x == s2 and n2 == g.node,
    via_upvalue = shared == s2 and graph == g,
  })
end, graph, shared, node)
r = res:recv()
check("cycle kept", r.cycle)
check("repeated reference arrives once", r.repeated)
check("same table in two arguments arrives once", r.across_args)
check("same table as upvalue and argument arrives once", r.via_upvalue)

-- metatables are copied (a small class) ---------------------------------------
local Point = {}
Point.__index = Point
function Point.new(x, y) return setmetatable({x = x, y = y}, Point) end
function Point:len2() return self.x * self.x + self.y * self.y end
Point.__tostring = function(p) return "(" .. p.x .. "," .. p.y .. ")" end
go(function(p) res:send(p:len2() .. " " .. tostring(p)) end, Point.new(3, 4))
check("metatable and methods copied", res:recv() == "25 (3,4)")

-- functions with upvalues -------------------------------------------------------
local function counter()
  local n = 0
  return function() n = n + 1; return n end, function() return n end
end
local inc, get = counter()
inc()                                   -- n == 1 here
go(function(i, g)
  i(); i()                               -- upvalue shared by i and g stays shared
  res:send(g())
end, inc, get)
check("shared upvalue copied together (1 + 2)", res:recv() == 3)
check("spawner's closure state unchanged", get() == 1)

local function square(x) return x * x end
go(function() res:send(square(7)) end)
check("captured local function", res:recv() == 49)

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
go(function() res:send(fib(20)) end)
check("recursive local function", res:recv() == 6765)

-- globals read by the goroutine are copied; new globals stay private ---------
GREETING = "hello"
function shout(s) return s:upper() .. "!" end
go(function() res:send(shout(GREETING)) end)
check("globals read are copied (also through a global function)", res:recv() == "HELLO!")

go(function()
  NEW_GLOBAL = 5                        -- nil in the spawner: allowed, private
  res:send(NEW_GLOBAL)
end)
check("goroutine's own global", res:recv() == 5)
check("spawner's globals untouched", NEW_GLOBAL == nil)

-- nested go -----------------------------------------------------------------------
go(function()
  go(function(t) res:send(t.v * 2) end, {v = 21})
end)
check("goroutine spawning a goroutine", res:recv() == 42)

-- copied functions keep debug info (file:line in error messages) ---------------
go(function()
  local ok, e = pcall(function() error("oops") end)
  res:send(tostring(ok) .. " " .. e)
end)
local msg = res:recv()
check("error position kept", msg:match("^false go_basics%.lua:%d+: oops$") ~= nil, msg)

-- each goroutine has its own math.random state, seeded differently -------------
for _ = 1, 8 do
  go(function() res:send(math.random(1, 1 << 40) .. ":" .. math.random(1, 1 << 40)) end)
end
local draws = {}
for _ = 1, 8 do draws[res:recv()] = true end
local ndistinct = 0
for _ in pairs(draws) do ndistinct = ndistinct + 1 end
check("random streams differ between goroutines", ndistinct > 1)

print("done")
