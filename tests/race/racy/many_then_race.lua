-- A race after 150 goroutines have come and gone (goroutine slots are
-- reused after 64 have ended): the two racers are siblings on reused
-- slots, and reuse must not order them with each other.
local t = shared.table{n = 0}
local wg = sync.WaitGroup()
for i = 1, 150 do
  wg:Go(function() t[i] = i end)
end
wg:Wait()
wg:Add(2)
for _ = 1, 2 do
  go(function()
    local v = t.n         -- RACE read
    t.n = v + 1           -- RACE write
    wg:Done()
  end)
end
wg:Wait()
print("done")
