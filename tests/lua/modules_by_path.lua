-- modules_by_path: values reachable from package.loaded cross by path (the
-- receiver requires the module itself), a goroutine inherits package.path,
-- cpath, preload and searchers, and a C module's functions -- which could
-- not be copied -- work in another goroutine, even after the goroutine
-- that loaded the module has ended.
local mods = assert(os.getenv("LUGO_TESTMODS"), "run me through ctest")
package.cpath = mods .. "/?.so;" .. package.cpath
package.preload.greeter = function(name)
  return {hello = function(who) return "hello " .. who .. " from " .. name end}
end
local c = chan()

-- a Lua module from preload: module state is per goroutine
local greeter = require "greeter"
greeter.visits = 1
go(function(g, c)
  local mine = require "greeter"
  c:send(tostring(g == mine) .. " " .. tostring(g.visits) .. " " .. g.hello("you"))
end, greeter, c)
print(c:recv())

-- a C module loaded by a goroutine that then ends; its functions, one of
-- them a C closure, arrive by path and work
go(function(c)
  local m = require "testmod"
  c:send({add = m.add, tag = m.tag, mod = m})
end, c)
local got = c:recv()
print(got.add(2, 3), got.tag(), got.mod == require("testmod"))
collectgarbage()
print(got.add(40, 2))

-- a custom searcher (a Lua function) is inherited too
table.insert(package.searchers, 2, function(name)
  if name == "virtual" then return function() return {answer = 42} end end
  return "\n\tno virtual module '" .. name .. "'"
end)
go(function(c) c:send(require("virtual").answer) end, c)
print(c:recv())

-- a module a goroutine cannot find: the error is raised in the receiver
local ok, err = pcall(function()
  go(function(c) local ok, e = pcall(require, "no_such_module") c:send(ok) end, c)
end)
print(ok, c:recv())

-- a searcher inserted in the middle keeps the standard ones around it in
-- the goroutine (Lua modules still load from package.path)
table.insert(package.searchers, 2, function(name) return "\n\tno luck" end)
package.path = os.getenv("LUGO_TESTMODS") .. "/?.lua;" .. package.path
go(function(c) c:send((pcall(require, "testmod"))) end, c)
print("with a searcher at 2:", c:recv())

-- a preload loader that holds something uncopyable is left out, instead of
-- making every go that names require fail
local f = io.tmpfile()
package.preload.logger = function() return {log = function(s) f:write(s) end} end
go(function(c) c:send((pcall(require, "logger"))) end, c)
print("loader with a file upvalue:", c:recv())
