-- deep_copy: values cross breadth first, so depth costs no C stack: a chain
-- of 1,000,000 tables (with a cycle back to its head) crosses a channel
-- and a go call intact; metatables (with __gc) arrive complete; an
-- uncopyable value deep inside is reported with the end of its path.
local N = 1000000
local head = {}
local cur = head
for i = 1, N do cur.next = {i = i} cur = cur.next end
cur.next = head

local c = chan(1)
c:send(head)
local got = c:recv()
local n, p = 0, got.next
while p ~= got do n = n + 1 p = p.next end
print("chain through a channel:", n, got ~= head)

go(function(h, c)
  local k, q = 0, h.next
  while q ~= h do k = k + q.i q = q.next end
  c:send(k)
end, head, c)
print("sum in a goroutine:", c:recv())

-- a finalizer crosses too: the metatable is set once its body is complete
local finalized = chan(1)
go(function(obj, done)
  obj = nil
  collectgarbage()
  done:send("collected")
end, setmetatable({}, {__gc = function() finalized:send("finalized") end}), c)
print(c:recv(), finalized:recv())

local mt = {__index = function(t, k) return k .. "!" end}
local t = setmetatable({}, mt)
c:send({t, mt})
local r = c:recv()
print("metatable:", r[1].hello, getmetatable(r[1]) == r[2])

cur.bad = coroutine.create(print)
local ok, err = pcall(c.send, c, head)
print(ok, (err:gsub("^deep_copy%.lua:%d+: ", "")))
