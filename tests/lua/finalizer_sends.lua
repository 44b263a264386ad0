-- finalizer_sends: finalizers that send (and the receives that follow) run
-- in the middle of a send or a receive of tables; the values stay intact.
local c, g = chan(4), chan(100000)
local got = 0
for i = 1, 300 do
  local t = {}
  for k = 1, 50 do t[k] = setmetatable({k}, {__gc = function(o) g:trysend({o[1], "gc"}) end}) end
  t = nil
  c:send({i, string.rep("x", 100), {nested = {i}}})
  local v = c:recv()
  assert(v[1] == i and v[3].nested[1] == i)
  while true do local m, ok, ready = g:tryrecv() if not ready then break end got = got + 1 end
end
print("ok", got > 0)
