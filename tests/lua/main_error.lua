-- main_error: an error in the main chunk behaves like `lua`: stderr gets
-- `lugo: <message>` and a stack traceback, exit status 1 (even while other
-- goroutines are still blocked).

local function fail(what)
  error(what .. " failed")
end

print("before the error")
local c = chan()
go(function() c:recv() end)   -- a goroutine left blocked: does not change the outcome
fail("main")
print("not reached")
