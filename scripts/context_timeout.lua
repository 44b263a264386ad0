-- context_timeout.lua: bound a slow operation with context.WithTimeout.
--
-- Run it with:   lugo scripts/context_timeout.lua
--
-- A context carries a deadline (and a cancellation signal) to everything
-- that works on a request. ctx:Done() is a channel that closes when the
-- deadline passes or cancel() is called; ctx:Err() then says why. The
-- caller selects on the operation's result and on ctx:Done(), whichever
-- comes first.

-- The operation: "fetch" something, taking `cost` seconds. It also
-- watches ctx, so it stops working (instead of finishing for nobody) once
-- the caller has given up.
local function fetch(ctx, what, cost, reply)
  select {
    {recv = time.After(cost), function()
      reply:send("fetched " .. what)
    end},
    {recv = ctx:Done(), function()
      -- nobody waits any more; a buffered reply would also do, this is tidier
    end},
  }
end

-- Run fetch under a timeout of `limit` seconds.
local function fetch_with_timeout(what, cost, limit)
  local ctx, cancel = context.WithTimeout(context.Background(), limit)
  local reply = chan(1)
  go(fetch, ctx, what, cost, reply)
  local result = select {
    {recv = reply, function(v) return v end},
    {recv = ctx:Done(), function() return "gave up on " .. what .. ": " .. ctx:Err() end},
  }
  cancel()  -- always call cancel: it releases the timer and the children
  return result
end

-- 1. Fast enough: the result arrives long before the 5 s deadline.
print(fetch_with_timeout("the index", 0.01, 5))

-- 2. Too slow: a 10 s operation under a 50 ms timeout.
print(fetch_with_timeout("the archive", 10, 0.05))

-- 3. Cancelled by hand before anything could finish: Err says so.
local ctx, cancel = context.WithTimeout(context.Background(), 5)
cancel()
print("cancelled early:", ctx:Err())

-- 4. A deadline already past: the context is done from the start.
local late = context.WithDeadline(context.Background(), time.Now() - 1)
print("deadline in the past:", late:Err())
