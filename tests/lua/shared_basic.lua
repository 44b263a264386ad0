-- shared_basic: shared.table reads and writes, value types, key
-- normalisation, nested tables (converted deeply, identity and cycles kept
-- within one stored graph, read back by reference), #, ipairs, shared.type.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

-- creation -----------------------------------------------------------------
local e = shared.table()
check("empty table", e.x == nil and #e == 0)
check("shared.table(nil) is empty", #shared.table(nil) == 0 and shared.table(nil).a == nil)
local t = shared.table{1, 2, 3, name = "lugo", [10] = "ten", [true] = "yes"}
check("init: array part", t[1] == 1 and t[2] == 2 and t[3] == 3)
check("init: hash part", t.name == "lugo" and t[10] == "ten" and t[true] == "yes")
check("#t counts the sequence", #t == 3)
check("shared.type", shared.type(t) == "shared.table" and shared.type({}) == nil
      and shared.type(42) == nil and shared.type(nil) == nil and shared.type(chan()) == nil)
check("type() is userdata", type(t) == "userdata")
check("tostring", tostring(t):match("^shared%.table: 0x%x+$") ~= nil, tostring(t))

-- values -------------------------------------------------------------------
t.i, t.f, t.b, t.fl = 7, 7.0, false, 0.5
check("integer stays integer", math.type(t.i) == "integer" and t.i == 7)
check("float stays float", math.type(t.f) == "float" and t.f == 7.0)
check("false is a value", t.b == false)
t.short = ("s"):rep(14)
t.long = ("L"):rep(15)
t.big = ("B"):rep(200000)
check("short string", t.short == ("s"):rep(14))
check("long string", t.long == ("L"):rep(15))
check("big string", t.big == ("B"):rep(200000) and #t.big == 200000)
t.empty = ""
check("empty string", t.empty == "")
t.nul = "a\0b"
check("strings with zeros", t.nul == "a\0b" and #t.nul == 3)
t.i = nil
check("assigning nil deletes", t.i == nil)
t.i = 8
t.i = 9
check("overwrite", t.i == 9)

-- keys: normalised as Lua does ---------------------------------------------
local k = shared.table()
k[1.0] = "float one"
check("1.0 is the key 1", k[1] == "float one" and #k == 1)
k[-0.0] = "zero"
check("-0.0 is the key 0", k[0] == "zero")
k[2^53] = "big"
check("2^53 (float) is the integer key", k[math.tointeger(2^53)] == "big")
k[0.5] = "half"
check("non-integral float keys", k[0.5] == "half" and k[1/2] == "half")
k[2^63] = "huge"
check("2^63 stays a float key", k[2^63] == "huge" and k[math.maxinteger] == nil)
k[true], k[false] = 1, 0
check("boolean keys", k[true] == 1 and k[false] == 0)
k["1"] = "string one"
check("'1' and 1 are different keys", k["1"] == "string one" and k[1] == "float one")
local ch, mu = chan(), sync.Mutex()
k[ch], k[mu] = "a channel", "a mutex"
check("runtime objects as keys", k[ch] == "a channel" and k[mu] == "a mutex")
k[t] = "a shared table"
check("shared tables as keys", k[t] == "a shared table")

-- nested tables ------------------------------------------------------------
local src = {point = {x = 1, y = 2}, list = {10, 20, {30}}}
local n = shared.table(src)
check("nested plain tables become shared tables",
      shared.type(n.point) == "shared.table" and shared.type(n.list[3]) == "shared.table")
check("nested values", n.point.x == 1 and n.list[2] == 20 and n.list[3][1] == 30)
check("read back by reference: the same object each time", n.point == n.point)
local p = n.point
p.x = 100
check("writes through a nested table are seen", n.point.x == 100)
src.point.x = -1
check("the original plain table is a separate copy", n.point.x == 100 and src.point.x == -1)
n.q = src.point
src.point.y = -2
check("storing a plain table copies it", n.q.y == 2 and n.q ~= n.point)
local deep = {}
local cur = deep
for i = 1, 2000 do cur.next = {i = i} cur = cur.next end
n.deep = deep
cur = n.deep
for _ = 1, 2000 do cur = cur.next end
check("2000 levels deep", cur.i == 2000)

-- identity and cycles within one stored graph ------------------------------
local a = {}
local g = {a, a, self = nil}
g.self = g
n.g = g
check("a table reachable twice is one shared table", n.g[1] == n.g[2])
check("a cycle is kept", n.g.self == n.g and n.g.self.self.self == n.g)
n.h = a
check("separate stores copy separately", n.h ~= n.g[1])
local ring = {}
ring[1] = {ring}
local r = shared.table(ring)
check("init with a cycle", r[1][1] == r)

-- shared tables stored are the same object ---------------------------------
local other = shared.table{v = 1}
n.other = other
check("a shared table is stored by reference", n.other == other)
other.v = 2
check("... and changes show through", n.other.v == 2)
n.inner = {o = other}
check("also inside a plain table stored", n.inner.o == other)

-- runtime objects are stored by reference ----------------------------------
local c, cnt = chan(1), atomic.Int64(5)
n.c, n.cnt = c, cnt
check("channel by reference", n.c == c)
n.c:send("through the stored channel")
check("... usable", c:recv() == "through the stored channel")
n.cnt:Add(1)
check("atomic by reference", cnt:Load() == 6)

-- # and ipairs ---------------------------------------------------------------
local s = shared.table{}
for i = 1, 100 do s[i] = i * i end
check("# after appends", #s == 100)
s[50] = nil
check("# after a hole: a border", #s == 49 and s[49] ~= nil and s[50] == nil)
s[50] = 2500
check("# when the hole is filled", #s == 100)
s[101] = 1
check("# grows by one", #s == 101)
local sum, count = 0, 0
for i, v in ipairs(s) do sum, count = sum + v, count + 1 end
check("ipairs walks 1..#t", count == 101 and sum == 338350 + 1)
s[3] = nil
count = 0
for _ in ipairs(s) do count = count + 1 end
check("ipairs stops at the first nil", count == 2)

-- pairs --------------------------------------------------------------------
local pt = shared.table{x = 1, y = 2, z = 3, 4, 5}
local keys = {}
for key, v in pairs(pt) do keys[#keys + 1] = tostring(key) .. "=" .. tostring(v) end
table.sort(keys)
check("pairs visits every entry once", table.concat(keys, " ") == "1=4 2=5 x=1 y=2 z=3",
      table.concat(keys, " "))
print("done")
