-- os_exit: os.exit(n) from any goroutine ends the process at once with
-- status n, after flushing stdout and stderr (even a line without its
-- newline); other goroutines (blocked or sleeping) do not delay it.

print("main: before")
local never = chan()
go(function() never:recv() end)      -- blocked forever
go(function() time.Sleep(3600) end)  -- sleeping for an hour
go(function()
  print("goroutine: exiting with 3")
  io.write("unterminated line")      -- buffered, no newline: must still appear
  io.stderr:write("goroutine: to stderr\n")
  os.exit(3)
end)
never:recv()
print("not reached")
