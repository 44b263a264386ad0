-- hello.lua: three goroutines greet over one channel.
-- Each goroutine gets its own copy of `i`; the channel is shared.
local results = chan()
for i = 1, 3 do
  go(function(i) results:send("hello from goroutine " .. i) end, i)
end
-- collect, then print in a fixed order (goroutines finish in any order)
local lines = {}
for _ = 1, 3 do table.insert(lines, (results:recv())) end
table.sort(lines)
for _, l in ipairs(lines) do print(l) end
