-- the one-entry type cache (g->lastbox) outlives a box whose __gc was removed
local Lock = debug.getmetatable(sync.Mutex()).__index.Lock
local hits = 0
for round = 1, 200 do
  local mu = sync.Mutex()
  mu:Lock() mu:Unlock()          -- cache: lastbox = mu's box, type Mutex
  debug.setmetatable(mu, nil)     -- its finalizer (obj_gc) will not run
  mu = nil
  collectgarbage() collectgarbage()
  -- new boxes of another type: one may take the freed box's address
  local wgs = {}
  for i = 1, 8 do wgs[i] = sync.WaitGroup() end
  for i = 1, 8 do
    -- a WaitGroup is not a Mutex: this must raise a type error
    local ok, err = pcall(Lock, wgs[i])
    if ok then
      hits = hits + 1
      print("round " .. round .. ": Mutex.Lock accepted a sync.WaitGroup")
      -- the 'lock' wrote into the WaitGroup's counter
      local done = chan(1)
      go(function() wgs[i]:Wait() done:send(true) end)
      print(select{{recv = done}, {recv = time.After(0.2), function() return "Wait blocked: counter corrupted" end}})
      os.exit(1)
    end
  end
end
print("no confusion seen", hits)
local cmu = sync.Mutex()
local Signal = debug.getmetatable(sync.Cond(cmu)).__index.Signal
for round = 1, 200 do
  local c = sync.Cond(cmu)
  c:Signal()                   -- cache: lastbox = c's box, type Cond
  debug.setmetatable(c, nil)   -- no __gc: obj_gc never clears the cache
  c = nil
  collectgarbage() collectgarbage()
  local xs = {}
  for i = 1, 8 do xs[i] = atomic.Int64(i) end
  for i = 1, 8 do
    if pcall(Signal, xs[i]) then
      print("round " .. round .. ": Cond.Signal ran on an atomic.Int64")
      os.exit(1)
    end
  end
end
print("no confusion seen")
