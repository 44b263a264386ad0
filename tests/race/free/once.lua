-- sync.Once: fn -> every Do returning. Four goroutines call once:Do(init)
-- where init writes t.cfg; each reads t.cfg after its Do. No race.
local t = shared.table{}
local once = sync.Once()
local runs = atomic.Int64(0)
local wg = sync.WaitGroup()
for g = 1, 4 do
  wg:Go(function()
    once:Do(function()
      runs:Add(1)
      t.cfg = "loaded"
    end)
    t["saw" .. g] = t.cfg
  end)
end
wg:Wait()
print(runs:Load(), t.saw1, t.saw2, t.saw3, t.saw4)
