-- shared_freeze: shared.freeze(t) is a deep immutable copy, readable from
-- any goroutine with no copying on transfer (it crosses by reference);
-- of a shared table, a frozen snapshot.  #, pairs, ipairs; writes raise.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local function sortedpairs(t)
  local out = {}
  for k, v in pairs(t) do out[#out + 1] = tostring(k) .. "=" .. tostring(v) end
  table.sort(out)
  return table.concat(out, " ")
end

-- of a plain table -----------------------------------------------------------
local src = {10, 20, 30, name = "cfg", opts = {depth = 2, tags = {"a", "b"}}}
local f = shared.freeze(src)
check("shared.type", shared.type(f) == "frozen" and shared.type(f.opts) == "frozen")
check("tostring", tostring(f):match("^frozen: 0x%x+$") ~= nil)
check("reads", f[1] == 10 and f.name == "cfg" and f.opts.depth == 2 and f.opts.tags[2] == "b")
check("#", #f == 3 and #f.opts.tags == 2)
src.name, src.opts.depth = "changed", 99
check("a copy: later changes to the source do not show", f.name == "cfg" and f.opts.depth == 2)
check("nested tables read back as the same object", f.opts == f.opts)
check("pairs", sortedpairs(f) == "1=10 2=20 3=30 name=cfg opts=" .. tostring(f.opts),
      sortedpairs(f))
local sum = 0
for i, v in ipairs(f) do sum = sum + i * v end
check("ipairs", sum == 10 + 40 + 90)
check("missing keys read nil", f.nope == nil and f[4] == nil)
check("freeze of a frozen table is itself", shared.freeze(f) == f)
local empty, nkeys = shared.freeze({}), 0
for _ in pairs(empty) do nkeys = nkeys + 1 end
check("empty", #empty == 0 and nkeys == 0 and empty[1] == nil)

-- identity and cycles --------------------------------------------------------
local a = {}
local g = {a, a}
g.self = g
local fg = shared.freeze(g)
check("a table met twice is one node", fg[1] == fg[2])
check("cycles kept", fg.self == fg and fg.self.self == fg)

-- values -------------------------------------------------------------------
local ch = chan(1)
local fv = shared.freeze{i = 1, fl = 1.5, s = ("x"):rep(40), b = false, ch = ch,
                         fn = function(x) return x + 1 end, [2.5] = "key", [true] = "t"}
check("value types", math.type(fv.i) == "integer" and math.type(fv.fl) == "float"
      and fv.s == ("x"):rep(40) and fv.b == false and fv[2.5] == "key" and fv[true] == "t")
check("runtime objects by reference", fv.ch == ch)
check("functions, loaded once", fv.fn(1) == 2 and fv.fn == fv.fn)

-- writes raise ----------------------------------------------------------------
check("writes raise", not pcall(function() f.name = "x" end))
check("nested writes raise", not pcall(function() f.opts.depth = 1 end))
check("... and changed nothing", f.name == "cfg" and f.opts.depth == 2)

-- of a shared table: a snapshot ------------------------------------------------
local st = shared.table{count = 1, inner = {v = "before"}, list = {1, 2}}
st.inner.self = st.inner
local snap = shared.freeze(st)
st.count = 2
st.inner.v = "after"
st.list[3] = 3
check("snapshot values", snap.count == 1 and snap.inner.v == "before" and #snap.list == 2)
check("nested shared tables are snapshots too", shared.type(snap.inner) == "frozen")
check("cycles through shared tables kept", snap.inner.self == snap.inner)
local holder = {s = st}
local mixed = shared.freeze(holder)
check("a shared table inside a plain one is snapshotted",
      shared.type(mixed.s) == "frozen" and mixed.s.count == 2 and mixed.s.inner.v == "after")

-- frozen tables stored elsewhere stay themselves -------------------------------
st.frozen = f
check("a frozen table is stored by reference", st.frozen == f)
local f2 = shared.freeze{inner = f}
check("... also inside another frozen table", f2.inner == f)

-- crossing goroutines ----------------------------------------------------------
local c = chan()
go(function(f, c)
  c:send(f)
  c:send(f.opts.tags[1] .. #f .. tostring(pcall(function() f.x = 1 end)))
end, f, c)
check("it crosses by reference: the same object", c:recv() == f)
check("readable in another goroutine", c:recv() == "a3false")
local ch2 = chan(1)
ch2:send({wrapped = f})
check("inside a copied table, still by reference", ch2:recv().wrapped == f)

-- many readers at once ---------------------------------------------------------
local big = {}
for i = 1, 1000 do big[i] = {n = i} end
local fb = shared.freeze(big)
local wg, total = sync.WaitGroup(), atomic.Int64()
for _ = 1, 8 do
  wg:Go(function()
    local s = 0
    for _, v in ipairs(fb) do s = s + v.n end
    total:Add(s)
  end)
end
wg:Wait()
check("8 goroutines read one frozen table", total:Load() == 8 * 500500)
print("done")
