-- shared_cross: a shared table crosses goroutines by reference -- given to
-- go, sent on a channel, captured as an upvalue, stored in another shared
-- table -- and is the same Lua value each time it enters a goroutine, so
-- == and table keys work; writes from any goroutine are seen by all.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local t = shared.table{hits = 0}
local c = chan()

-- given to go ------------------------------------------------------------------
go(function(t, c)
  t.fromarg = "set by a goroutine"
  c:send(true)
end, t, c)
c:recv()
check("a write in a goroutine (argument) is seen", t.fromarg == "set by a goroutine")

-- captured as an upvalue (writing through it is allowed) -----------------------
go(function()
  t.fromupvalue = 42
  t.nested = {deep = {value = "made in a goroutine"}}
  c:send(true)
end)
c:recv()
check("a write through a captured shared table is seen", t.fromupvalue == 42)
check("a nested table made in a goroutine", t.nested.deep.value == "made in a goroutine")

-- sent on a channel ------------------------------------------------------------
local ch = chan(1)
ch:send(t)
local got = ch:recv()
check("received: the same object", got == t and rawequal(got, t))
ch:send({t, t, {inner = t}})
local list = ch:recv()
check("inside a copied table: the same object each time",
      list[1] == t and list[2] == t and list[3].inner == t)

-- == and table keys across goroutines ------------------------------------------
local seen = {[t] = "main's key"}
go(function(x, c)
  c:send(x == t)          -- t is also an upvalue: the same Lua value
end, t, c)
check("== in another goroutine", c:recv() == true)
go(function(c) c:send(t) end, c)
check("a key in a plain table works after a round trip", seen[c:recv()] == "main's key")

-- stored in another shared table -------------------------------------------------
local registry = shared.table()
registry.users = t
go(function(registry, c)
  local u = registry.users
  u.hits = u.hits + 1     -- only this goroutine writes hits here
  c:send(u == registry.users)
end, registry, c)
check("reached through another shared table", c:recv() == true and t.hits == 1)

-- nested tables keep their identity across goroutines ----------------------------
local inner = t.nested
go(function(t, c) c:send(t.nested) end, t, c)
check("a nested table comes back as the same object", c:recv() == inner)

-- many goroutines, each its own key ------------------------------------------------
local wg = sync.WaitGroup()
for g = 1, 20 do
  wg:Go(function(t, g)
    t["g" .. g] = {id = g, sq = g * g}
  end, t, g)
end
wg:Wait()
local ok = true
for g = 1, 20 do ok = ok and t["g" .. g].id == g and t["g" .. g].sq == g * g end
check("20 goroutines wrote their own keys", ok)

-- a goroutine ending does not end the table --------------------------------------
go(function(c)
  local mine = shared.table{made = "by a goroutine that ends"}
  c:send(mine)
end, c)
local orphan = c:recv()
for _ = 1, 3 do
  local done = chan()
  go(function(done) done:send(true) end, done)   -- recycle goroutine states
  done:recv()
end
collectgarbage()
check("a table outlives the goroutine that made it", orphan.made == "by a goroutine that ends")
print("done")
