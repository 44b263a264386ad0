-- chan_buffered: chan(n) holds up to n values: sends do not block until it is
-- full; len/cap/# report the buffer; FIFO order; a full channel blocks its
-- sender until a receiver makes room.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local c = chan(3)
check("cap 3, len 0", c:cap() == 3 and c:len() == 0 and #c == 0)
-- no other goroutine exists: these sends would deadlock if they blocked
c:send("a")
check("len 1 after one send", c:len() == 1 and #c == 1)
c:send("b")
c:send("c")
check("len 3 = cap when full", c:len() == 3 and #c == 3 and c:cap() == 3)
check("trysend on a full channel fails", c:trysend("d") == false)
check("failed trysend left len alone", #c == 3)
check("FIFO 1", c:recv() == "a")
check("len 2 after one recv", #c == 2)
check("trysend succeeds with room", c:trysend("d") == true)
check("FIFO 2", c:recv() == "b")
check("FIFO 3", c:recv() == "c")
check("FIFO 4", c:recv() == "d")
check("empty again", #c == 0)

-- chan(1) works as a one-slot mailbox
local box = chan(1)
box:send(42)
local v, ok = box:recv()
check("chan(1) mailbox", v == 42 and ok == true)

-- a full channel blocks the sender: with cap 3 and one value taken, a sender
-- of 5 values cannot have finished (3 buffered + 1 taken = 4 < 5)
local full = chan(3)
local finished = chan(1)
go(function()
  for i = 1, 5 do full:send(i) end
  finished:send(true)
end)
check("first value", full:recv() == 1)
local _, _, early = finished:tryrecv()
check("sender blocked while the buffer is full", early == false)
check("second value", full:recv() == 2)
check("sender finishes once there is room", finished:recv() == true)
check("remaining 3 values buffered", #full == 3)
check("values 3,4,5 in order", full:recv() == 3 and full:recv() == 4 and full:recv() == 5)

-- capacity larger than traffic: a producer never blocks
local big = chan(1000)
go(function()
  for i = 1, 1000 do big:send(i) end
  finished:send(true)
end)
check("producer ran to completion without a receiver", finished:recv() == true)
check("len is 1000", #big == 1000)
local inorder = true
for i = 1, 1000 do if big:recv() ~= i then inorder = false end end
check("1000 values FIFO", inorder)

-- many producers and consumers through a small buffer: exactly once
local pipe = chan(2)
local out = chan(8)
for p = 0, 7 do
  go(function() for i = 1, 500 do pipe:send(p * 500 + i) end end)
end
for _ = 1, 8 do
  go(function()
    local s, n = 0, 0
    for _ = 1, 500 do s = s + pipe:recv(); n = n + 1 end
    out:send({s, n})
  end)
end
local sum, cnt = 0, 0
for _ = 1, 8 do
  local r = out:recv()
  sum, cnt = sum + r[1], cnt + r[2]
end
check("8x8 through chan(2): every value once", sum == 4000 * 4001 // 2 and cnt == 4000, sum .. "/" .. cnt)
check("buffer empty at the end", #pipe == 0)
print("done")
