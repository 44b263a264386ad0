-- fncache: go(f) keeps what it learns about f (its dump, the scan of its
-- globals) per closure and per prototype, and a pooled goroutine state keeps
-- the loaded function for the next goroutine given the same function.  Each
-- goroutine must still see its own upvalues, never a predecessor's, and a
-- predecessor's upvalues must not be kept alive by the kept function.
-- With -p 1 each goroutine ends before the next starts (same state each time).
local out = chan(1)

-- new closures of one prototype, each with its own upvalue
local function make(v)
  local t = {v = v}
  return function(out) out:send(t.v) end
end
local got = {}
for i = 1, 20 do
  go(make(i), out)
  got[#got + 1] = out:recv()
end
print(table.concat(got, " "))

-- the same closure again and again, with arguments
local function worker(out, x) out:send(x * 2) end
got = {}
for i = 1, 10 do
  go(worker, out, i)
  got[#got + 1] = out:recv()
end
print(table.concat(got, " "))

-- the kept function is the same function object, reused: its address
-- repeats across goroutines (each sends itself, as an argument)
local function self(out, me) out:send(tostring(me)) end
local seen, distinct = {}, 0
for _ = 1, 20 do
  go(self, out, self)
  local a = out:recv()
  if not seen[a] then seen[a], distinct = true, distinct + 1 end
end
print("reused:", distinct < 20)

-- a predecessor's upvalue must be garbage once its goroutine ends: its
-- finalizer runs at the reset (if the kept function held on to it, the
-- final receive below would never complete: deadlock)
local fin = chan(100)
local function holder(n)
  local big = setmetatable({}, {__gc = function() fin:send(n) end})
  return function(out) out:send(big ~= nil) end
end
for i = 1, 5 do
  go(holder(i), out)
  assert(out:recv() == true)
end
go(function(out) out:send(true) end, out)  -- another goroutine ends the last
out:recv()
local ran = {}
for _ = 1, 5 do ran[#ran + 1] = fin:recv() end
table.sort(ran)
print("finalizers:", table.concat(ran, " "))

-- the scan is kept per upvalue kinds: a closure whose upvalue now holds a
-- table gets its stores refused, the same prototype with a number does not
local function mk(u)
  return function(out) if type(u) == "table" then u.x = 1 end out:send("ran") end
end
go(mk(1), out)
print(out:recv())
print(pcall(go, mk({}), out))
go(mk(2), out)
print(out:recv())
