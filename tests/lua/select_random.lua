-- select_random: among ready cases one is chosen at random (uniformly, per
-- the contract). We only assert that every ready case gets chosen at least
-- once in 1000 tries (the chance of a false failure is about 2^-1000), never
-- a ratio.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

-- two receive cases, both always ready
local a, b = chan(1), chan(1)
a:send("a")
b:send("b")
local count = {0, 0}
for _ = 1, 1000 do
  local i, v = select { {recv = a}, {recv = b} }
  count[i] = count[i] + 1
  if i == 1 then assert(v == "a"); a:send("a") else assert(v == "b"); b:send("b") end
end
check("both ready recv cases chosen", count[1] > 0 and count[2] > 0, count[1] .. "/" .. count[2])
check("1000 selections in total", count[1] + count[2] == 1000)

-- the order of the cases does not matter: the first ready one is not preferred
count = {0, 0}
for _ = 1, 1000 do
  local i = select { {recv = a}, {recv = b}, default = true }
  assert(i ~= "default")
  count[i] = count[i] + 1
  if i == 1 then a:send("a") else b:send("b") end
end
check("with a default, both ready cases still chosen", count[1] > 0 and count[2] > 0)

-- a receive and a send case, both ready
local out = chan(1)
count = {0, 0}
for _ = 1, 1000 do
  local i = select { {recv = a}, {send = out, value = 1} }
  count[i] = count[i] + 1
  if i == 1 then a:send("a") else out:recv() end
end
check("ready recv and ready send both chosen", count[1] > 0 and count[2] > 0)

-- handlers: the same, through handler return values
local hits = {a = 0, b = 0}
for _ = 1, 1000 do
  local who = select {
    {recv = a, function(v) a:send(v); return "a" end},
    {recv = b, function(v) b:send(v); return "b" end},
  }
  hits[who] = hits[who] + 1
end
check("handler form: both chosen", hits.a > 0 and hits.b > 0)

-- four ready cases, each chosen at some point
local cs = {chan(1), chan(1), chan(1), chan(1)}
for k = 1, 4 do cs[k]:send(k) end
count = {0, 0, 0, 0}
for _ = 1, 1000 do
  local i, v = select { {recv = cs[1]}, {recv = cs[2]}, {recv = cs[3]}, {recv = cs[4]} }
  assert(v == i)
  count[i] = count[i] + 1
  cs[i]:send(i)
end
check("four ready cases all chosen", count[1] > 0 and count[2] > 0 and count[3] > 0 and count[4] > 0,
  table.concat(count, "/"))
print("done")
