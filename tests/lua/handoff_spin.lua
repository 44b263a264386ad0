-- handoff_spin: Lua that cannot yield (a busy loop in a table.sort
-- comparator) keeps its processor only for a while: with -p 1, sysmon
-- takes the P away and the goroutine that ends the loop gets to run.
local c = chan(1)
go(function() c:send("go on") end)
local got
table.sort({2, 1}, function(a, b)
  while got == nil do
    local v, _, ready = c:tryrecv()
    if ready then got = v end
  end
  return a < b
end)
print("sorted after", got)
