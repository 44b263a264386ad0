-- deadlock_select: `select{}` blocks forever, and so does a select whose
-- cases are all switched off; with nothing else able to run, that is a
-- deadlock (status 2).

print("start")
go(function() select { {recv = false}, {send = false, value = 1} } end)
local c = chan(1)
c:send("only one")
print(select { {recv = c} })        -- 1	only one	true
select {}
print("not reached")
