-- goroutine_error: an error escaping a goroutine ends the whole program like
-- a Go panic: `panic: <message>`, a `goroutine N [running]:` line and a Lua
-- traceback (with file:line, since copied functions keep their debug info)
-- on stderr, exit status 2. Output printed before the panic is not lost.

local function explode(n)
  error("boom " .. n)
end

print("main: start")
go(function()
  print("goroutine: about to fail")
  explode(42)
end)
time.Sleep(3600)   -- main just waits: the panic must end the program
print("not reached")
