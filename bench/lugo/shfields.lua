-- lugo benchmark: one goroutine writes then reads N distinct keys of one
-- shared.table (each key gets a shadow cell under -race).  Prints the
-- process's peak RSS in KB; bench/race.sh divides the difference with
-- and without -race by N.
-- usage: lugo shfields.lua [N=200000]
local N = tonumber(arg and arg[1]) or 200000
local t = shared.table{}
for i = 1, N do t["k" .. i] = i end
local s = 0
for i = 1, N do s = s + t["k" .. i] end
assert(s == N * (N + 1) // 2)
local f = io.open("/proc/self/status")
local rss = f:read("a"):match("VmHWM:%s*(%d+)")
f:close()
print(string.format("shfields %d KB", tonumber(rss)))
