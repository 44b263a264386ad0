-- main_exit: when the main chunk returns, the program exits with status 0
-- at once; goroutines still blocked, sleeping or running are abandoned (as
-- in Go). The 120 s test timeout catches a runtime that waits for them.

local never = chan()
for _ = 1, 10 do
  go(function() never:recv() end)            -- blocked forever
end
go(function() time.Sleep(3600) end)          -- sleeping for an hour
local started = chan()
go(function()
  started:send(true)
  local x = 0
  while true do x = x + 1 end                -- busy forever
end)
started:recv()
print("main: returning")
