-- bad_input: bad arguments raise Lua errors (catchable, in the caller) that
-- name the function; values that cannot cross a goroutine boundary raise
-- `cannot copy ...`; nothing crashes and no channel loses or gains a value.
-- Only stable substrings of the messages are asserted.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

-- calls are wrapped in closures (not pcall(f, ...)) so that Lua can name the
-- called function in "bad argument" messages
local function raises(substr, f)
  local ok, e = pcall(f)
  return not ok and tostring(e):find(substr, 1, true) ~= nil, e
end

-- go needs a function
check("go(42)", raises("go", function() go(42) end))
check("go()", raises("go", function() go() end))
check("go('print')", raises("go", function() go("print") end))
check("go({})", raises("go", function() go({}) end))
check("go(nil, 1)", raises("go", function() go(nil, 1) end))

-- chan needs a non-negative integer
check("chan(-1)", raises("chan", function() chan(-1) end))
check("chan(1.5)", raises("chan", function() chan(1.5) end))
check("chan('x')", raises("chan", function() chan("x") end))
check("chan({})", raises("chan", function() chan({}) end))
check("chan(math.huge)", raises("chan", function() chan(math.huge) end))
check("chan(2.0) is chan(2), as Lua converts integral floats", chan(2.0):cap() == 2)
check("chan(nil) is unbuffered", chan(nil):cap() == 0)

-- methods called on something that is not a channel
local c = chan(1)
check("c.send(42, 1)", raises("send", function() c.send(42, 1) end))
check("c.recv('x')", raises("recv", function() c.recv("x") end))
check("c.close({})", raises("close", function() c.close({}) end))
check("c.len(nil)", raises("len", function() c.len(nil) end))

-- coroutines cannot cross: as a send, a go argument, inside a table, as an upvalue
local co = coroutine.create(function() end)
check("send(coroutine)", raises("cannot copy", function() c:send(co) end))
check("nothing was enqueued", #c == 0)
check("send({co})", raises("cannot copy", function() c:send({ok = 1, bad = {co}}) end))
check("still nothing enqueued", #c == 0)
check("go(f, coroutine)", raises("cannot copy", function() go(function() end, co) end))
check("go(f) with a coroutine upvalue", raises("cannot copy", function() go(function() return co end) end))
check("trysend(coroutine)", raises("cannot copy", function() c:trysend(co) end))
check("select send of a coroutine", raises("cannot copy", function() select {{send = c, value = co}} end))
check("channel still empty and usable", #c == 0 and c:trysend("fine") and c:recv() == "fine")

-- the failed go did not start anything; an error inside a message still
-- leaves the program healthy
local r = chan()
go(function() r:send("after the errors") end)
check("runtime healthy after the errors", r:recv() == "after the errors")
print("done")
