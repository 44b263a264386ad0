-- Unbuffered channel, both directions: a send completes only when its
-- receive happens, so the sender's earlier writes precede the receiver's
-- later reads AND the receiver's earlier writes precede the sender's
-- later reads. No race.
local t = shared.table{}
local ch, back = chan(), chan()
go(function()
  t.x = "from goroutine"
  ch:send(true)           -- send -> receive
  back:recv()             -- main's write of t.y came before its send
  print("goroutine reads", t.y)
  back:send(true)
end)
ch:recv()
print("main reads", t.x)
t.y = "from main"
back:send(true)
back:recv()
-- receive -> send completion: main writes, then receives; the goroutine
-- sent before reading, and its send completed only after that receive.
local c2 = chan()
go(function()
  c2:send(1)
  print("goroutine reads", t.z)
  c2:send(2)
end)
t.z = "z written before the receive"
c2:recv()
c2:recv()
