-- lua5.4 baseline for tablemsg: Lanes-style copying between states done in
-- one state -- serialise the table to a string, rebuild it with load().
-- usage: lua5.4 tablemsg.lua [N=20000]
local N = tonumber(arg and arg[1]) or 20000

local function make()
  local t = {}
  for i = 1, 500 do t[i] = i * 1.5 end
  for i = 1, 500 do t["key" .. i] = "value" .. i end
  return t
end

local fmt, concat = string.format, table.concat
local function serialise(t)
  local parts, n = {"return {"}, 1
  for k, v in pairs(t) do
    n = n + 1
    parts[n] = fmt("[%q]=%q,", k, v)
  end
  parts[n + 1] = "}"
  return concat(parts)
end

local t = make()
local t0 = os.clock()
local sum = 0
for _ = 1, N do
  local copy = load(serialise(t))()
  sum = sum + copy[500] + #copy.key250
end
local elapsed = os.clock() - t0
assert(sum == N * (750 + 8), "tablemsg: wrong sum " .. sum)
print(string.format("tablemsg %.2f us/op", elapsed * 1e6 / N))
