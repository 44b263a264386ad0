-- lua5.4 baseline for shset: a plain table set with a string key.
-- usage: lua5.4 shset.lua [N=5000000]
local N = tonumber(arg and arg[1]) or 5000000
local t = {key = 0}
local t0 = os.clock()
for i = 1, N do t.key = i end
local elapsed = os.clock() - t0
assert(t.key == N)
print(string.format("shset %.2f ns/op", elapsed * 1e9 / N))
