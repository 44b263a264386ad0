-- sync.Map ops synchronise: the writer writes t.data then m:Store; the
-- reader spins on m:Load and then reads t.data. LoadOrStore from four
-- goroutines: one wins, and every loser reads what the winner wrote to
-- t.winner before its LoadOrStore. No race.
local t = shared.table{}
local m = sync.Map()
local wg = sync.WaitGroup()
wg:Go(function()
  t.data = "payload"
  m:Store("ready", true)
end)
wg:Go(function()
  while not m:Load("ready") do runtime.Gosched() end
  t.got = t.data
end)
wg:Wait()
local wins = atomic.Int64(0)
for g = 1, 4 do
  wg:Go(function()
    t["w" .. g] = "winner " .. g
    local v, loaded = m:LoadOrStore("first", g)
    if not loaded then wins:Add(1) end
    t["seen" .. g] = (t["w" .. v] ~= nil)
  end)
end
wg:Wait()
local n = 0
m:Range(function(k, v) n = n + 1 end)
print(t.got, wins:Load(), t.seen1, t.seen2, t.seen3, t.seen4, n)
