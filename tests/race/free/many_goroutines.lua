-- Many goroutines (300, far past the 64 slots kept before reuse), in
-- waves: each wave fills t[i] for its own i and main reads them all after
-- the wave's Wait; then a relay of 100 goroutines passes a token through
-- unbuffered channels, each adding to t.sum (ordered by the hand-overs).
-- Slot reuse must not invent races. No race.
local t = shared.table{sum = 0}
local wg = sync.WaitGroup()
local total = 0
for wave = 0, 2 do
  for i = wave * 100 + 1, wave * 100 + 100 do
    wg:Go(function() t[i] = i end)
  end
  wg:Wait()
  for i = wave * 100 + 1, wave * 100 + 100 do total = total + t[i] end
end
local first = chan()
local prev = first
for i = 1, 100 do
  local nxt = chan()
  go(function(inc, out)
    inc:recv()
    t.sum = t.sum + i
    out:send(true)
  end, prev, nxt)
  prev = nxt
end
first:send(true)
prev:recv()
print(#t, total, t.sum)
