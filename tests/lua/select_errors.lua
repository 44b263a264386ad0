-- select_errors: malformed cases raise (in the caller, catchable with pcall);
-- a send case on a closed channel raises when chosen; an error in a handler
-- propagates out of select. None of these lose or invent channel values.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local function raises(f)
  local ok, e = pcall(f)
  return not ok, tostring(e)
end

local c = chan(1)
c:send("keep")

local bad, e = raises(function() local r = select { {} }; return r end)
check("case with neither recv nor send raises", bad, e)
check("... and the message names select", e:find("select", 1, true), e)

bad, e = raises(function() return select { {recv = c}, {value = 1} } end)
check("a malformed case raises even when another case is ready", bad, e)
check("the ready case was not consumed", #c == 1)

bad, e = raises(function() return select { {recv = c}, {function() end} } end)
check("case with only a handler raises", bad, e)

bad, e = raises(function() return select { 42 } end)
check("case that is not a table raises", bad, e)

bad, e = raises(function() return select { {recv = 42} } end)
check("recv = non-channel raises", bad, e)

bad, e = raises(function() return select { {recv = {}} } end)
check("recv = plain table raises", bad, e)

bad, e = raises(function() return select { {send = "x", value = 1} } end)
check("send = non-channel raises", bad, e)
check("still one value in c", #c == 1 and c:recv() == "keep")

-- nil value in an enabled send case
local room = chan(1)
bad, e = raises(function() return select { {send = room, value = nil} } end)
check("send case with nil value raises", bad and e:find("nil", 1, true), e)
check("nothing was sent", #room == 0)

-- send case on a closed channel raises when chosen
local closed = chan(1)
closed:close()
bad, e = raises(function() return select { {send = closed, value = 1} } end)
check("send case on closed channel raises", bad and e:find("send on closed channel", 1, true), e)
bad, e = raises(function() return select { {send = closed, value = 1}, default = true } end)
check("... even with a default (closed is 'ready')", bad and e:find("send on closed channel", 1, true), e)

-- a send case blocked in select raises when its channel is closed
local u = chan()
local res = chan(1)
go(function()
  local ok, err = pcall(function()
    return select { {send = u, value = 1}, {recv = false} }
  end)
  res:send(not ok and err:find("send on closed channel", 1, true) ~= nil)
end)
u:close()
check("close wakes a select blocked on a send case, which raises", res:recv() == true)

-- errors in handlers propagate, the received value was consumed
local h = chan(2)
h:send(1)
h:send(2)
bad, e = raises(function()
  return select { {recv = h, function(v) error("handler failed on " .. v) end} }
end)
check("handler error propagates", bad and e:find("handler failed on 1", 1, true), e)
check("the value the handler got was consumed", #h == 1 and h:recv() == 2)

-- error objects that are not strings pass through unchanged
h:send(3)
local ok, obj = pcall(function()
  return select { {recv = h, function() error({code = 42}) end} }
end)
check("table error object from a handler", not ok and type(obj) == "table" and obj.code == 42)

-- a default handler's error propagates too
bad, e = raises(function() return select { {recv = h}, default = function() error("dflt") end } end)
check("default handler error propagates", bad and e:find("dflt", 1, true), e)

-- Lua's select keeps its own errors
bad, e = raises(function() return select(0, "a") end)
check("select(0, ...) still raises like Lua", bad and e:find("select", 1, true), e)
print("done")
