-- lugo benchmark: shared.table(init) of tablemsg's 1,000-entry table: the
-- one-time cost of making a plain table shared (compare tablemsg: the cost
-- of copying it through a channel each time).
-- usage: lugo -p P shmake.lua [N=5000]
local N = tonumber(arg and arg[1]) or 5000

local function make()
  local t = {}
  for i = 1, 500 do t[i] = i * 1.5 end
  for i = 1, 500 do t["key" .. i] = "value" .. i end
  return t
end

local src = make()
local t0 = time.Now()
local t
for _ = 1, N do t = shared.table(src) end
local elapsed = time.Now() - t0
assert(t[500] == 750 and t.key250 == "value250")
print(string.format("shmake %.2f us/op", elapsed * 1e6 / N))
