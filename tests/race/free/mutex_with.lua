-- mu:With(fn): lock, call, unlock (also when fn raises). Three goroutines
-- append to a shared list under the lock, one of them through a fn that
-- raises after its write (caught with pcall). No race.
local t = shared.table{n = 0, list = {}}
local mu = sync.Mutex()
local wg = sync.WaitGroup()
local function push(v)
  t.n = t.n + 1
  t.list[t.n] = v
  return t.n
end
wg:Add(3)
for g = 1, 3 do
  go(function()
    for i = 1, 20 do
      if g == 3 and i % 5 == 0 then
        pcall(mu.With, mu, function() push(g); error("boom") end)
      else
        mu:With(push, g)
      end
    end
    wg:Done()
  end)
end
wg:Wait()
local count = {0, 0, 0}
for _, v in ipairs(t.list) do count[v] = count[v] + 1 end
print("n", t.n, #t.list, count[1], count[2], count[3])
