-- context_goroutines: contexts cross goroutines by reference (go()
-- arguments, upvalues, channels, shared tables: the same object, so ==
-- holds), cancellation reaches goroutines waiting on Done, a CancelFunc
-- works from any goroutine and from many at once, children made in other
-- goroutines hear their parent, values are read anywhere.  Output order
-- is fixed by collecting and sorting.
local bg = context.Background()
local wg = sync.WaitGroup()

-- identity: the same context comes back through go(), a channel and a
-- shared table
local ctx, cancel = context.WithCancel(bg)
local back = chan(3)
local box = shared.table()
box.ctx = ctx
go(function(c, back, box)
  back:send(c)
  back:send(box.ctx)
  back:send(context.Background())
end, ctx, back, box)
print("same object back:", back:recv() == ctx, back:recv() == ctx, back:recv() == bg)
print("as an upvalue:", (function()
  local r = chan()
  go(function() r:send(ctx == box.ctx and ctx:Err() == nil) end)
  return (r:recv())
end)())

-- workers wait on Done; cancelling in main reaches them all
local results = chan(10)
for i = 1, 10 do
  wg:Go(function(i, ctx, results)
    ctx:Done():recv()
    results:send(string.format("worker %02d stopped: %s", i, ctx:Err()))
  end, i, ctx, results)
end
cancel()
wg:Wait()
results:close()
local lines = {}
for l in results:range() do lines[#lines + 1] = l end
table.sort(lines)
print(table.concat(lines, "\n"))

-- the CancelFunc crosses goroutines and works there
local c2, cancel2 = context.WithCancel(bg)
go(function(cancel2) cancel2() end, cancel2)
c2:Done():recv()
print("cancelled by another goroutine:", c2:Err())

-- ... through a channel too, and from 50 goroutines at once
local c3, cancel3 = context.WithCancel(bg)
local fns = chan(1)
fns:send(cancel3)
local got = fns:recv()
for _ = 1, 50 do wg:Go(function(f) f() end, got) end
wg:Wait()
print("many cancels, one result:", c3:Err())

-- children made in other goroutines hear a parent cancelled in main
local parent, pcancel = context.WithCancel(bg)
local ready, out = chan(), chan(20)
for i = 1, 20 do
  go(function(i, parent, ready, out)
    local child = context.WithValue(context.WithCancel(parent), "id", i)
    ready:send(true)
    select {
      {recv = child:Done()},
      {recv = time.After(60), function() error("FAILED: never cancelled") end},
    }
    out:send(child:Value("id") .. " " .. child:Err())
  end, i, parent, ready, out)
end
for _ = 1, 20 do ready:recv() end
pcancel()
local ids = {}
for _ = 1, 20 do ids[#ids + 1] = out:recv() end
table.sort(ids, function(a, b) return tonumber(a:match("%d+")) < tonumber(b:match("%d+")) end)
print("children in goroutines:", #ids, ids[1], ids[20])

-- a goroutine cancels its own child; the parent (from main) lives on
local long, longcancel = context.WithCancel(bg)
local r = chan()
go(function(long, r)
  local mine, minecancel = context.WithCancel(long)
  minecancel()
  r:send(mine:Err())
  r:send(long:Err() == nil)
end, long, r)
print("own child:", r:recv(), r:recv(), long:Err())
longcancel()

-- values are read in any goroutine: copies of tables, objects by reference
local mu = sync.Mutex()
local vctx = context.WithValue(context.WithValue(bg, "cfg", {depth = 3}), mu, mu)
go(function(vctx, mu, r)
  local cfg = vctx:Value("cfg")
  cfg.depth = 99  -- its own copy
  r:send(vctx:Value("cfg").depth)
  r:send(rawequal(vctx:Value(mu), mu))
end, vctx, mu, r)
print("values elsewhere:", r:recv(), r:recv(), vctx:Value("cfg").depth)

-- a deadline fires for the goroutine waiting on it
local dl = context.WithTimeout(bg, 0.02)
go(function(dl, r)
  dl:Done():recv()
  r:send(dl:Err())
end, dl, r)
print("deadline in a goroutine:", (r:recv()))

-- a worker loop: select on jobs and Done, stop when cancelled
local wctx, wcancel = context.WithCancel(bg)
local jobs, sums = chan(), chan()
go(function(wctx, jobs, sums)
  local sum = 0
  while true do
    local i, v = select { {recv = wctx:Done()}, {recv = jobs} }
    if i == 1 then break end
    sum = sum + v
  end
  sums:send(sum)
end, wctx, jobs, sums)
for i = 1, 100 do jobs:send(i) end
wcancel()
print("worker loop summed:", sums:recv(), "then stopped:", wctx:Err())
