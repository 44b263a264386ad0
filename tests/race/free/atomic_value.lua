-- atomic.Value and atomic.Int64 Swap as publication: the writer fills
-- t.rows then stores a config in an atomic.Value; the reader spins on
-- Load() and then reads t.rows. A token passed with Swap orders a second
-- pair of accesses. No race.
local t = shared.table{rows = {}}
local cfg = atomic.Value()
local token = atomic.Int64(0)
local wg = sync.WaitGroup()
wg:Go(function()
  for i = 1, 3 do t.rows[i] = i * 2 end
  cfg:Store({version = 7})
  while token:Load() ~= 1 do runtime.Gosched() end
  t.back = t.reader .. "!"
end)
wg:Go(function()
  local c = cfg:Load()
  while c == nil do runtime.Gosched(); c = cfg:Load() end
  t.reader = "v" .. c.version .. " rows " .. #t.rows .. " sum " .. (t.rows[1] + t.rows[2] + t.rows[3])
  token:Swap(1)
end)
wg:Wait()
print(t.back)
