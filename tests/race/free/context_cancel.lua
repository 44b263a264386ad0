-- context cancel -> ctx:Done() observers (and ctx:Err()): main writes t.x
-- then cancels; three goroutines block on ctx:Done() (one through select)
-- and read t.x afterwards. A child context sees the parent's cancel. No
-- race.
local t = shared.table{}
local ctx, cancel = context.WithCancel(context.Background())
local child = context.WithCancel(ctx)
local wg = sync.WaitGroup()
for g = 1, 3 do
  wg:Go(function()
    if g == 1 then
      ctx:Done():recv()
    elseif g == 2 then
      select { {recv = child:Done()} }
    else
      for _ in ctx:Done():range() do end
    end
    t["r" .. g] = t.x .. " " .. ctx:Err()
  end)
end
t.x = "set before cancel"
cancel()
wg:Wait()
print(t.r1)
print(t.r2)
print(t.r3)
