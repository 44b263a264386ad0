-- select's send and receive cases carry the same edges as ch:send/recv:
-- main writes t[i] then sends i through a select send case; the worker
-- receives it through a select receive case, reads t[i], writes t.r[i]
-- and answers through a select send on a buffered channel that main
-- receives through a select receive case before reading t.r[i]. No race.
local t = shared.table{r = {}}
local jobs, results, quit = chan(), chan(1), chan()
go(function()
  while true do
    local i, v = select { {recv = jobs}, {recv = quit} }
    if i == 2 then break end
    t.r[v] = t[v] * 10
    select { {send = results, value = v}, {send = false, value = 0} }
  end
end)
local sum = 0
for i = 1, 5 do
  t[i] = i
  select { {send = jobs, value = i, function() end} }
  select { {recv = results, function(v, ok) sum = sum + t.r[v] end} }
end
quit:close()
print("sum", sum)
