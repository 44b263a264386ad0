-- WaitGroup Done -> Wait returns, with wg:Add before go and with wg:Go.
-- Eight goroutines fill t[i] by index in parallel (stores that move the
-- border do not race each other), then main reads #t and ipairs after
-- Wait. No race.
local t = shared.table{}
local wg = sync.WaitGroup()
for i = 1, 4 do
  wg:Add(1)
  go(function()
    t[i] = i * 10
    wg:Done()
  end)
end
for i = 5, 8 do
  wg:Go(function(k) t[k] = k * 10 end, i)
end
wg:Wait()
local s = 0
for _, v in ipairs(t) do s = s + v end
print("len", #t, "sum", s)
