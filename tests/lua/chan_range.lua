-- chan_range: `for v in ch:range() do ... end` receives until the channel is
-- closed and drained.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

-- producer closes when done
local c = chan()
go(function()
  for i = 1, 10 do c:send(i) end
  c:close()
end)
local got = {}
for v in c:range() do got[#got + 1] = v end
check("range over unbuffered", table.concat(got, " ") == "1 2 3 4 5 6 7 8 9 10", table.concat(got, " "))

-- buffered, closed before ranging: drains the buffer
local b = chan(5)
for _, w in ipairs({"x", "y", "z"}) do b:send(w) end
b:close()
got = {}
for v in b:range() do got[#got + 1] = v end
check("range drains a closed buffer", table.concat(got) == "xyz")

-- ranging over a closed, empty channel runs zero times
local e = chan(1)
e:close()
local n = 0
for _ in e:range() do n = n + 1 end
check("closed empty channel: no iterations", n == 0)

-- false is a value, not the end of the range
local f = chan(3)
f:send(false)
f:send(true)
f:send(false)
f:close()
got = {}
for v in f:range() do got[#got + 1] = tostring(v) end
check("false values are delivered", table.concat(got, ",") == "false,true,false", table.concat(got, ","))

-- break leaves the rest in the channel
local r = chan(10)
for i = 1, 10 do r:send(i) end
for v in r:range() do
  if v == 4 then break end
end
check("break after 4 leaves 6 buffered", #r == 6)
check("next value is 5", r:recv() == 5)

-- ranging inside goroutines: a chain of stages, each closing its output
local src, mid, dst = chan(), chan(4), chan()
go(function()
  for i = 1, 100 do src:send(i) end
  src:close()
end)
go(function()
  for v in src:range() do mid:send(v * 2) end
  mid:close()
end)
go(function()
  local s = 0
  for v in mid:range() do s = s + v end
  dst:send(s)
  dst:close()
end)
local total = 0
for v in dst:range() do total = total + v end
check("three-stage range pipeline", total == 10100, total)

-- tables flow through range intact
local t = chan()
go(function()
  for i = 1, 3 do t:send({i = i, sq = i * i}) end
  t:close()
end)
got = {}
for rec in t:range() do got[#got + 1] = rec.i .. "^2=" .. rec.sq end
check("tables over range", table.concat(got, " ") == "1^2=1 2^2=4 3^2=9")
print("done")
