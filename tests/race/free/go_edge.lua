-- The go statement: everything the spawner did before go precedes the
-- child. Main writes t.x then spawns a child that reads it and spawns a
-- grandchild (which reads what the child wrote); main joins through a
-- channel. No race.
local t = shared.table{}
local done = chan()
t.x = 1
go(function()
  t.y = t.x + 1
  go(function()
    t.z = t.y + 1
    done:send(true)
  end)
end)
done:recv()
print(t.x, t.y, t.z)
