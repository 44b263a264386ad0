-- context_stress: a cancellation tree 10 levels deep, 1,000 contexts a
-- level (WithCancel, with WithValue and WithTimeout levels among them),
-- and 10,000 goroutines each parked on one context's Done.  Cancelling
-- the root must wake every one of them (run with -p 2, so wake-ups cross
-- threads).  Then 20,000 short-lived children of one long-lived parent,
-- made and cancelled by goroutines on both threads.
local N, LEVELS = 1000, 10
local bg = context.Background()
local root, cancel = context.WithCancel(bg)
local levels, keep = {}, {}
local prev = {root}
for l = 1, LEVELS do
  local cur = {}
  for i = 1, N do
    local parent = prev[(i * 7) % #prev + 1]
    local c, f
    if l == 3 then
      c = context.WithValue(parent, "level3", i)
    elseif l == 5 then
      c, f = context.WithTimeout(parent, 3600)
    else
      c, f = context.WithCancel(parent)
    end
    cur[i] = c
    keep[#keep + 1] = f
  end
  levels[l] = cur
  prev = cur
end

local ready, finished = sync.WaitGroup(), sync.WaitGroup()
local woke = atomic.Int64()
ready:Add(N * LEVELS)
finished:Add(N * LEVELS)
for l = 1, LEVELS do
  for i = 1, N do
    go(function(ctx, ready, finished, woke)
      local done = ctx:Done()
      ready:Done()
      done:recv()
      if ctx:Err() == "context canceled" then woke:Add(1) end
      finished:Done()
    end, levels[l][i], ready, finished, woke)
  end
end
ready:Wait()
print("waiting goroutines:", N * LEVELS, "deepest has a value:",
      levels[LEVELS][1]:Value("level3") ~= nil)
cancel()
local guard = chan()
go(function(finished, guard) finished:Wait() guard:close() end, finished, guard)
print(select {
  {recv = guard, function() return "all finished" end},
  {recv = time.After(300), function() return "FAILED: goroutines still waiting" end},
})
print("woke with 'context canceled':", woke:Load())
local bad = 0
for l = 1, LEVELS do
  for i = 1, N do
    if levels[l][i]:Err() ~= context.Canceled then bad = bad + 1 end
  end
end
print("contexts not cancelled:", bad)

-- many short-lived children of a long-lived parent, on both threads
local long, longcancel = context.WithCancel(bg)
local wg = sync.WaitGroup()
for g = 1, 4 do
  wg:Go(function(long)
    for i = 1, 5000 do
      local c, f = context.WithCancel(long)
      if i % 2 == 0 then c = context.WithValue(c, "i", i) end
      f()
      assert(c:Err() == "context canceled")
    end
  end, long)
end
wg:Wait()
print("parent after 20,000 children cancelled:", long:Err())
longcancel()
