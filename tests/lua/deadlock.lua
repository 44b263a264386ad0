-- deadlock: when every goroutine is blocked on channels (no timers pending),
-- the runtime reports `fatal error: all goroutines are asleep - deadlock!`
-- on stderr and exits with status 2.

print("before the deadlock")
local c1, c2 = chan(), chan()
go(function() c1:recv() end)        -- waits forever for c1
go(function() c2:send(1) end)       -- delivers one value, then ends
print(c2:recv())                    -- 1	true
go(function() for _ in c1:range() do end end)   -- nobody closes c1
c2:recv()                           -- nobody sends again: all blocked
print("not reached")
