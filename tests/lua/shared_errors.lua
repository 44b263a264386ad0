-- shared_errors: every misuse of shared.table, shared.freeze and frozen
-- tables is a Lua error naming the function and the problem (with the
-- path to the value inside what was stored), never a crash.

local function err(f, ...)
  local ok, msg = pcall(f, ...)
  assert(not ok, "expected an error")
  print((tostring(msg):gsub("^[^:]+:%d+: ", "")))
end

local t = shared.table()
local co = coroutine.create(print)
local file = io.tmpfile()

print("-- keys")
err(function() t[nil] = 1 end)
err(function() return t[nil] end)
err(function() t[0/0] = 1 end)
err(function() return t[0/0] end)
err(function() t[{}] = 1 end)
err(function() return t[{}] end)
err(function() t[print] = 1 end)
err(function() t[co] = 1 end)
err(function() t[file] = 1 end)
err(function() shared.table{[{}] = 1} end)
err(function() shared.table{a = {b = {[function() end] = 1}}} end)
err(function() t.x = {1, {[co] = true}} end)

print("-- values")
err(function() t.co = co end)
err(function() t.file = file end)
err(function() t[5] = {a = {1, co}} end)
err(function() t[true] = {co} end)
err(function() shared.table{list = {1, 2, {x = co}}} end)
err(function() t.f = function() return co end end)
err(function() t.g = {h = function() return file end} end)
err(function() t.m = setmetatable({}, {}) end)
err(function() t.m = {inner = setmetatable({}, {__index = {}})} end)
err(function() shared.table(setmetatable({}, {})) end)
err(function() shared.table(_G) end)
err(function() shared.table(string) end)
err(function() shared.table(42) end)
print("-- long paths (a step longer than a luaL_Buffer's first block, and deep)")
local function long(leaf) return {[("k"):rep(3000)] = {x = {leaf = leaf}}} end
local function deep(leaf)
  local root = {}
  local cur = root
  for i = 1, 40 do cur["k" .. i] = {} cur = cur["k" .. i] end
  cur.leaf = leaf
  return root
end
local function short(msg)  -- keep the expected output readable
  return (msg:gsub("^[^:]+:%d+: ", ""):gsub("k+'", "k...'"))
end
print(short(select(2, pcall(function() t.long = long(co) end))))
print(short(select(2, pcall(function() t.long = long(function() return co end) end))))
print(short(select(2, pcall(function() chan(1):send(long(co)) end))))
print(short(select(2, pcall(function() t.deep = deep(co) end))))
print(short(select(2, pcall(function() t.deep = deep(function() return co end) end))))
print("nothing was stored:", t.co, t.file, t[5], t[true], t.f, t.g, t.m, t.x, t.long, t.deep)

print("-- wrong self")
local mt = debug.getmetatable(t)
print(getmetatable(t))
err(mt.__index, {}, "k")
err(mt.__newindex, chan(), "k", 1)
err(mt.__len, sync.Mutex())
err(mt.__pairs, 42)
local fz = shared.freeze{1}
local fmt = debug.getmetatable(fz)
print(getmetatable(fz))
err(fmt.__index, t, 1)
err(fmt.__len, t)
err(fmt.__index, io.stdout, 1)
err(mt.__index, fz, 1)

print("-- frozen")
local f = shared.freeze{a = 1, nested = {b = 2}}
err(function() f.a = 2 end)
err(function() f.new = 1 end)
err(function() f.nested.b = 3 end)
err(function() f.a = nil end)
err(function() return f[nil] end)
err(function() return f[{}] end)
err(function() shared.freeze(42) end)
err(function() shared.freeze() end)
err(function() shared.freeze(setmetatable({}, {})) end)
err(function() shared.freeze{x = setmetatable({}, {})} end)
err(function() shared.freeze{x = co} end)
err(function() shared.freeze(math) end)
err(function() local n = next(f) end)
err(shared.type)
print(f.a, f.nested.b)
print("done")
