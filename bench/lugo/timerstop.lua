-- lugo benchmark: NewTimer + Stop while a million other timers are pending
-- (insert and delete in a heap of 1,000,000).
-- usage: lugo -p P timerstop.lua [N=1000000] [PENDING=1000000]
local N = tonumber(arg and arg[1]) or 1000000
local PENDING = tonumber(arg and arg[2]) or 1000000
local keep = {}
for i = 1, PENDING do keep[i] = time.NewTimer(3600 + i * 1e-6) end
local t0 = time.Now()
for _ = 1, N do
  local t = time.NewTimer(1800)
  t:Stop()
end
print(string.format("timerstop %.2f ns/op", (time.Now() - t0) * 1e9 / N))
os.exit(0)  -- do not wait for a million timers to be collected
