-- sync_map: sync.Map's methods, copies in and out, objects by reference,
-- LoadOrStore's single winner under contention, Range (snapshot, early
-- stop, a callback that blocks), every error.
local m = sync.Map()
print("empty:", m:Load("a"))
m:Store("a", 1)
m:Store(2, {x = {1, 2}})
m:Store(true, "a string longer than fourteen bytes")
local mu = sync.Mutex()
m:Store(mu, mu)
print((m:Load("a")), m:Load(2).x[2], (m:Load(true)), rawequal(m:Load(mu), mu))
local t = m:Load(2)
t.x[2] = 99
print("each Load is a copy:", m:Load(2).x[2])
print("2.0 is key 2:", m:Load(2.0).x[1])
print("LoadOrStore, present:", m:LoadOrStore("a", 5))
print("LoadOrStore, absent:", m:LoadOrStore("b", 6))
m:Store("a", "replaced")
print((m:Load("a")))
m:Delete("a")
m:Delete("never there")
print("deleted:", m:Load("a"))

-- Range: every entry once; false stops it; nil does not
local kinds = {}
m:Range(function(k, v) kinds[#kinds + 1] = type(k) end)
table.sort(kinds)
print("Range:", table.concat(kinds, " "))
local n = 0
m:Range(function() n = n + 1 return false end)
print("stopped after", n)
n = 0
m:Range(function() n = n + 1 return nil end)
print("nil goes on:", n)

-- Range's callback may block: it receives from another goroutine
local ping = chan()
go(function(ping) for i = 1, 4 do ping:send(i) end end, ping)
local got = 0
m:Range(function() got = got + ping:recv() end)
print("blocking callback:", got)

-- LoadOrStore under contention: one winner per key, all agree on it
local winners, wg = atomic.Int64(), sync.WaitGroup()
local agree = atomic.Int64()
local c = sync.Map()
for g = 1, 8 do
  wg:Go(function()
    for k = 1, 500 do
      local actual, loaded = c:LoadOrStore(k, g)
      if not loaded then winners:Add(1) end
      if c:Load(k) == actual then agree:Add(1) end
    end
  end)
end
wg:Wait()
print("winners:", winners:Load(), "agreeing reads:", agree:Load())

-- misuse
local function try(...) print(select(2, pcall(...))) end
try(m.Store, m, "x", nil)
try(m.LoadOrStore, m, "x")
try(m.Store, m, {}, 1)
try(m.Load, m, nil)
try(m.Load, m, 0/0)
try(m.Store, m, "c", coroutine.create(print))
try(m.Range, m, 1)
try(m.Load, sync.Mutex(), 1)
print(tostring(m):match("^sync.Map: ") ~= nil)

-- maps that hold each other (or themselves, or a shared table holding
-- them) are freed by the shared tables' cycle collector (ASan checks)
for _ = 1, 3000 do
  local a, b = sync.Map(), sync.Map()
  a:Store("b", b)
  b:Store("a", a)
  a:Store("self", a)
  local s = shared.table()
  s.m = a
  a:Store("s", s)
end
print("cycles made")
