-- close -> a receive that sees the close: the producer writes t.total
-- after its last send and then closes; one consumer ranges until closed,
-- another loops on recv until ok == false, and both then read t.total.
-- Each t[v] is covered by send -> receive. No race.
local t = shared.table{}
local ch, ch2 = chan(2), chan()
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  local s = 0
  for v in ch:range() do s = s + t[v] end
  t.r1 = "range sum " .. s .. " total " .. t.total
  wg:Done()
end)
go(function()
  local n = 0
  while true do
    local v, ok = ch2:recv()
    if not ok then break end
    n = n + v
  end
  t.r2 = "recv sum " .. n .. " total " .. t.total
  wg:Done()
end)
for i = 1, 5 do
  t[i] = i
  ch:send(i)
  ch2:send(i)
end
t.total = 15
ch:close()
ch2:close()
wg:Wait()
print(t.r1)
print(t.r2)
