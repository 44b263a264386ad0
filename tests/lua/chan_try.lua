-- chan_try: non-blocking trysend/tryrecv.
--   ok = ch:trysend(v)        false if it would block; raises if closed
--   v, ok, ready = ch:tryrecv()
--     a value             -> v, true, true
--     closed and drained  -> nil, false, true
--     nothing ready       -> nil, false, false

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

-- give other goroutines a chance while polling (never used as a sleep)
local function spin_until(f)
  while not f() do runtime.Gosched() end
end

local c = chan(2)
check("tryrecv returns 3 values", select("#", c:tryrecv()) == 3)
local v, ok, ready = c:tryrecv()
check("empty: nil, false, false", v == nil and ok == false and ready == false)

check("trysend returns 1 value", select("#", c:trysend("x")) == 1)
check("trysend into room: true", c:trysend("y") == true)
check("trysend into full: false", c:trysend("z") == false)
v, ok, ready = c:tryrecv()
check("value: x, true, true", v == "x" and ok == true and ready == true)
v, ok, ready = c:tryrecv()
check("value: y, true, true", v == "y" and ok == true and ready == true)

c:send(false)
v, ok, ready = c:tryrecv()
check("false value: false, true, true", v == false and ok == true and ready == true)

c:send(1)
c:close()
v, ok, ready = c:tryrecv()
check("closed but buffered: 1, true, true", v == 1 and ok == true and ready == true)
v, ok, ready = c:tryrecv()
check("closed and drained: nil, false, true", v == nil and ok == false and ready == true)
local e
ok, e = pcall(function() return c:trysend(2) end)
check("trysend on closed raises", not ok and e:find("send on closed channel", 1, true), e)

-- unbuffered: trysend succeeds only when a receiver is already waiting
local u = chan()
check("unbuffered trysend, nobody waiting: false", u:trysend(1) == false)
local got = chan(1)
go(function() got:send((u:recv())) end)
spin_until(function() return u:trysend(99) end)
check("unbuffered trysend to a waiting receiver delivers", got:recv() == 99)

-- unbuffered: tryrecv succeeds only when a sender is already waiting
v, ok, ready = u:tryrecv()
check("unbuffered tryrecv, nobody waiting: not ready", v == nil and ok == false and ready == false)
go(function() u:send("hello") end)
local rv, rok
spin_until(function()
  local r
  rv, rok, r = u:tryrecv()
  return r
end)
check("unbuffered tryrecv from a waiting sender", rv == "hello" and rok == true)

-- unbuffered, closed: ready with nil, false
u:close()
v, ok, ready = u:tryrecv()
check("closed unbuffered: nil, false, true", v == nil and ok == false and ready == true)

-- a trysend that failed did not enqueue anything
local f = chan(1)
f:send("kept")
for _ = 1, 10 do assert(f:trysend("dropped") == false) end
check("failed trysends left the buffer alone", #f == 1 and f:recv() == "kept" and #f == 0)

-- polling consumer: count exactly what a producer sent
local p = chan(8)
local total = chan(1)
go(function()
  for i = 1, 1000 do p:send(i) end
  p:close()
end)
go(function()
  local s = 0
  while true do
    local x, okx, r = p:tryrecv()
    if r then
      if not okx then break end
      s = s + x
    else
      runtime.Gosched()
    end
  end
  total:send(s)
end)
check("polling consumer saw every value once", total:recv() == 500500)
print("done")
