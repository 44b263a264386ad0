-- select_timeout.lua: wait for a result, but not forever.
local fast, never = chan(1), chan()
go(function() fast:send("result") end)

select {
  {recv = fast, function(v) print("got", v) end},
  {recv = time.After(5), function() print("timeout") end},
}
-- nobody ever sends on `never`: the timeout case wins
select {
  {recv = never, function(v) print("got", v) end},
  {recv = time.After(0.05), function() print("timeout") end},
}
