-- handoff_ccall: a goroutine stuck in a long C call (here os.execute running
-- a shell loop that waits for a file) must not hold the only processor
-- (-p 1): sysmon takes the P from its thread and the goroutine that creates
-- the file runs meanwhile.  Without the hand-off this never finishes.
local flag = os.tmpname()
os.remove(flag)
local done = chan()

go(function(flag, done)
  local ok = os.execute("while [ ! -e '" .. flag .. "' ]; do sleep 0.005; done")
  done:send(ok and "c call returned" or "c call failed")
end, flag, done)

go(function(flag, done)
  -- give the first goroutine the processor first: yield until it is in C
  runtime.Gosched()
  local f = assert(io.open(flag, "w"))
  f:close()
  done:send("file created")
end, flag, done)

local got = {}
for _ = 1, 2 do got[#got + 1] = (done:recv()) end
table.sort(got)
print(got[1])
print(got[2])
os.remove(flag)
