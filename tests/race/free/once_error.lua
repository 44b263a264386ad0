-- sync.Once whose fn raises after writing t.x: fn still counts as done, and
-- its return (by error) still precedes every Do returning, so the callers
-- that read t.x after Do (caught with pcall) do not race it. No race.
local t = shared.table{}
local once = sync.Once()
local wg = sync.WaitGroup()
for g = 1, 3 do
  wg:Go(function()
    pcall(once.Do, once, function()
      t.x = "set"
      error("boom")
    end)
    t["r" .. g] = t.x
  end)
end
wg:Wait()
print(t.r1, t.r2, t.r3)
