-- shared_functions: functions stored in shared tables are copied by the
-- copy contract (bytecode + upvalues); a function read from a shared
-- table is loaded once per goroutine and cached: the same closure each
-- time, keeping its upvalues' state in that goroutine.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local t = shared.table()
local double = function(x) return x * 2 end
t.double = double
check("a stored function can be called", t.double(21) == 42)
check("it is loaded once: the same closure each read", t.double == t.double)
check("it is a copy, not the original", t.double ~= double)

-- upvalues are copied; state lives per goroutine -------------------------
local n = 0
t.inc = function() n = n + 1 return n end
check("the cached closure keeps its state", t.inc() == 1 and t.inc() == 2 and t.inc() == 3)
check("the writer's own upvalue is untouched", n == 0)
local c = chan()
go(function(t, c)
  c:send(t.inc())
  c:send(t.inc())
end, t, c)
check("another goroutine loads its own copy", c:recv() == 1 and c:recv() == 2)
check("ours goes on", t.inc() == 4)

-- a new store is a new version ---------------------------------------------
local old = t.double
t.double = double
check("storing again loads again", t.double ~= old and t.double(5) == 10)
t.double = function(x) return x * 3 end
check("replaced", t.double(5) == 15)

-- identity inside one stored graph -----------------------------------------
local f = function() return "f" end
t.pair = {f, f, {f}}
check("one function reachable twice is one copy",
      t.pair[1] == t.pair[2] and t.pair[3][1] == t.pair[1])
t.pair2 = {f}
check("a separate store is a separate copy", t.pair2[1] ~= t.pair[1])

-- methods: a function in a nested table called on it -------------------------
t.account = {balance = 10, deposit = function(self, v) self.balance = self.balance + v end}
t.account:deposit(5)
check("a method stored with its table", t.account.balance == 15)

-- upvalues holding runtime objects stay shared -----------------------------
local s = shared.table{v = 1}
t.get = function() return s.v end
s.v = 7
check("an upvalue holding a shared table is that table", t.get() == 7)
local box = atomic.Int64(0)
t.bump = function() return box:Add(1) end
go(function(t, c) c:send(t.bump()) end, t, c)
c:recv()
check("an upvalue holding an atomic is that atomic", t.bump() == 2 and box:Load() == 2)

-- plain tables in upvalues are copied, per goroutine ---------------------
local cfg = {limit = 3}
t.limit = function() cfg.limit = cfg.limit + 1 return cfg.limit end
check("an upvalue table is the loaded copy's own", t.limit() == 4 and t.limit() == 5 and cfg.limit == 3)

-- globals: the reader's own ------------------------------------------------
t.readglobal = function() return GREETING end
GREETING = "hello from main"
check("a stored function reads the reader's globals", t.readglobal() == "hello from main")
go(function(t, c) c:send(tostring(t.readglobal())) end, t, c)
check("... in another goroutine, that goroutine's", c:recv() == "nil")

-- standard functions are the reader's own ----------------------------------
t.p, t.fmt, t.ins = print, string.format, table.insert
check("standard functions", t.p == print and t.fmt == string.format and t.ins == table.insert)
go(function(t, c) c:send(t.fmt("%d-%s", 7, "x")) end, t, c)
check("... also in another goroutine", c:recv() == "7-x")

-- many versions: the cache lets old ones go ----------------------------------
local sum = 0
for i = 1, 300 do
  t.gen = function() return i end
  sum = sum + t.gen()
end
check("300 versions read", sum == 300 * 301 // 2)
local keep = {}
for i = 1, 100 do t["k" .. i] = function() return i end end
for i = 1, 100 do keep[i] = t["k" .. i] end
for _ = 1, 3 do
  for i = 1, 100 do
    t.churn = function() return -i end
    assert(t.churn() == -i)
  end
end
local same = true
for i = 1, 100 do same = same and t["k" .. i] == keep[i] and keep[i]() == i end
check("functions still stored stay cached through pruning", same)

-- through go and channels ----------------------------------------------------
go(function(t, c)
  local a, b = t.double, t.double
  c:send(a == b and a(2) == 6)
end, t, c)
check("cached in another goroutine too", c:recv() == true)
c = chan(1)
c:send(t)
local t2 = c:recv()
check("the table received is the same table", t2 == t and t2.double == t.double)
print("done")
