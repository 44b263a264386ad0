-- lua_select: the global select is extended, not replaced. select('#', ...)
-- and select(n, ...) keep Lua's meaning, in the main chunk and in goroutines;
-- only a call with exactly one table argument is Go's select.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local function lua_select_checks()
  local r = {}
  r[#r + 1] = select("#") == 0
  r[#r + 1] = select("#", nil) == 1
  r[#r + 1] = select("#", nil, nil, nil) == 3
  r[#r + 1] = select("#", 1, 2, 3) == 3
  r[#r + 1] = select(2, "a", "b", "c") == "b"
  r[#r + 1] = select("#", select(2, "a", "b", "c")) == 2
  r[#r + 1] = select(-1, "a", "b", "c") == "c"
  r[#r + 1] = select(-3, "a", "b", "c") == "a"
  r[#r + 1] = select("#", select(4, "a", "b", "c")) == 0
  r[#r + 1] = select(2.0, "x", "y") == "y"                    -- float index with integer value
  r[#r + 1] = select("2", "x", "y") == "y"                    -- string coerced, as in Lua
  local t = {x = 1}
  r[#r + 1] = select(1, t) == t                               -- a table as a vararg is just a value
  r[#r + 1] = select("#", t) == 1
  r[#r + 1] = select("#", {}, {}) == 2
  local function count(...) return select("#", ...) end
  r[#r + 1] = count(nil, nil) == 2
  r[#r + 1] = not pcall(select, 0, "a")                        -- index out of range
  r[#r + 1] = not pcall(select, -4, "a", "b", "c")
  r[#r + 1] = not pcall(select, "x", 1)                        -- not a number
  local all = true
  for k = 1, #r do if not r[k] then all = false; r.first = r.first or k end end
  return all, r.first
end

local ok, first = lua_select_checks()
check("Lua's select in the main chunk", ok, first)

local res = chan()
go(function() res:send({lua_select_checks()}) end)
local t = res:recv()
check("Lua's select in a goroutine", t[1] == true, t[2])

-- Go's select, right next to Lua's: one table argument
local c = chan(1)
c:send("v")
local i, v, okv = select { {recv = c} }
check("one table argument is Go's select", i == 1 and v == "v" and okv == true)

-- select used by vararg helpers inside handlers
c:send("w")
local n = select {
  {recv = c, function(...) return select("#", ...) end},
}
check("handler receives exactly (v, ok)", n == 2)
print("done")
