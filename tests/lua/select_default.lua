-- select_default: `default` makes select non-blocking; `recv = false` /
-- `send = false` is Go's nil channel: that case is never ready.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local c = chan(1)

-- default function: called when no case is ready, its results returned
local x, y = select {
  {recv = c, function() return "recv" end},
  default = function() return "default fn", 2 end,
}
check("default function results", x == "default fn" and y == 2)

-- a default that is not a function: select returns "default"
check("non-function default returns 'default'", select { {recv = c}, default = true } == "default")
check("default alone (function)", select { default = function() return 7 end } == 7)
check("default alone (non-function)", select { default = 1 } == "default")

-- a default function returning nothing: select returns nothing
check("empty default: no results", select("#", select { {recv = c}, default = function() end }) == 0)

-- non-blocking send: succeeds while there is room, then falls to default
local sent = 0
for _ = 1, 3 do
  select {
    {send = c, value = "v", function() sent = sent + 1 end},
    default = function() end,
  }
end
check("non-blocking send: 1 of 3 fit in chan(1)", sent == 1 and #c == 1)

-- with a ready case, default is never chosen
local defaults = 0
for _ = 1, 1000 do
  local r = select { {recv = c}, default = true }
  if r == "default" then defaults = defaults + 1 else c:send("v") end
end
check("ready case always beats default (1000 tries)", defaults == 0)

-- a closed channel is ready, so default is not chosen
local closed = chan()
closed:close()
local i, v, ok = select { {recv = closed}, default = true }
check("closed channel beats default", i == 1 and v == nil and ok == false)

-- unbuffered, nobody on the other side: default
local u = chan()
check("unbuffered recv with nobody sending: default", select { {recv = u}, default = true } == "default")
check("unbuffered send with nobody receiving: default",
  select { {send = u, value = 1}, default = true } == "default")

-- recv = false / send = false are never ready
check("recv=false with default", select { {recv = false}, default = true } == "default")
check("send=false with default", select { {send = false, value = 1}, default = true } == "default")
check("both switched off", select { {recv = false}, {send = false, value = 1}, default = true } == "default")

c:recv()
c:send("ready")
local offs = 0
for _ = 1, 200 do
  local k = select { {recv = false}, {recv = c}, {send = false, value = 1} }
  if k ~= 2 then offs = offs + 1 end
  c:send("ready")
end
check("switched-off cases are never chosen (200 tries)", offs == 0)

-- switched-off cases do not block a select whose other case becomes ready
local w = chan()
go(function() w:send("late") end)
i, v = select { {recv = false}, {recv = w}, {send = false, value = 1} }
check("blocking select ignores switched-off cases", i == 2 and v == "late")

-- a switched-off send case never raises, even with a nil value
check("send=false with nil value is fine", select { {send = false}, default = true } == "default")
print("done")
