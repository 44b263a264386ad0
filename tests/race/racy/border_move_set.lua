-- Stores that move the border are kept as a set (they don't race each
-- other). G1 appends t[1] then signals G2 and G3; G2 appends t[2] (moves
-- #t 1 -> 2); G3 reads #t. G3 follows G1's store but not G2's: race on
-- "length (#)" between G2's store and G3's read.
local t = shared.table{}
local toG2, toG3 = chan(1), chan(1)
local wg = sync.WaitGroup()
wg:Add(3)
go(function() t[1] = "a"; toG2:send(true); toG3:send(true); wg:Done() end)
go(function()
  toG2:recv()
  t[2] = "b"              -- RACE moves the border
  wg:Done()
end)
go(function()
  toG3:recv()
  local n = #t            -- RACE reads the border
  wg:Done()
end)
wg:Wait()
print("done")
