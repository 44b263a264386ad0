-- coroutine_chan: ordinary Lua coroutines keep working inside goroutines and
-- in the main chunk, and a channel operation that blocks inside a (nested)
-- coroutine parks the whole goroutine transparently: coroutine.resume/wrap
-- only return on the coroutine's own yields, returns and errors.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local function run_checks(feed, out, label)
  local res = {}
  local function ok(name, cond) res[#res + 1] = {label .. ": " .. name, cond} end

  -- a generator whose body blocks on the channel between yields
  local gen = coroutine.wrap(function()
    for _ = 1, 3 do
      local v = feed:recv()
      coroutine.yield(v * 10)
    end
    return "end"
  end)
  ok("wrap generator over a channel", gen() == 10 and gen() == 20 and gen() == 30 and gen() == "end")

  -- resume returns exactly the yielded values, not the park
  local co = coroutine.create(function(a)
    local v = feed:recv()                     -- 4
    local b = coroutine.yield(a + v, "y1")
    local w = feed:recv()                     -- 5
    return b + w, "done"
  end)
  local r1 = table.pack(coroutine.resume(co, 100))
  ok("resume: true, 104, 'y1'", r1.n == 3 and r1[1] == true and r1[2] == 104 and r1[3] == "y1")
  ok("status suspended after a yield", coroutine.status(co) == "suspended")
  local r2 = table.pack(coroutine.resume(co, 1000))
  ok("resume: true, 1005, 'done'", r2.n == 3 and r2[1] == true and r2[2] == 1005 and r2[3] == "done")
  ok("status dead", coroutine.status(co) == "dead")

  -- three levels of nesting; the innermost blocks
  local outer = coroutine.wrap(function()
    local middle = coroutine.wrap(function()
      local inner = coroutine.wrap(function()
        coroutine.yield(feed:recv())        -- 6
        coroutine.yield(feed:recv())        -- 7
      end)
      coroutine.yield(inner() + inner())
    end)
    coroutine.yield(middle() * 2)
  end)
  ok("three nested coroutines, innermost blocking", outer() == 26)

  -- inside a coroutine: yieldable, running, status
  local inside = coroutine.wrap(function()
    local me, ismain = coroutine.running()
    local st = coroutine.status(me)
    local y = coroutine.isyieldable()
    feed:recv()                               -- 8
    return ismain == false and st == "running" and y == true and coroutine.status(me) == "running"
  end)
  ok("isyieldable/running/status inside a coroutine", inside() == true)

  -- sends and select inside coroutines
  local echo = coroutine.wrap(function()
    out:send("from coroutine")                -- blocks until the helper takes it
    local reply = feed:recv()
    local i, v = select { {recv = feed}, {recv = false} }   -- 9
    coroutine.yield(reply, i, v)
  end)
  local reply, i, v = echo()
  ok("send, recv and select inside a coroutine",
    reply == "got: from coroutine" and i == 1 and v == 9)

  -- an error after a park ends the coroutine with resume -> false, msg
  local bad = coroutine.create(function()
    local n = feed:recv()                     -- 10
    error("boom " .. n)
  end)
  local okr, e = coroutine.resume(bad)
  ok("error after a park: false, message", okr == false and tostring(e):find("boom 10", 1, true) ~= nil)

  -- a wrap error propagates to the caller, which may be a pcall
  local badwrap = coroutine.wrap(function() feed:recv(); error("wrapped") end)   -- 11
  local okp, ep = pcall(badwrap)
  ok("wrap error after a park propagates", okp == false and tostring(ep):find("wrapped", 1, true) ~= nil)

  -- time.Sleep inside a coroutine
  local sleeper = coroutine.wrap(function() time.Sleep(0.001); coroutine.yield("slept") end)
  ok("time.Sleep inside a coroutine", sleeper() == "slept")

  -- coroutine.close on a coroutine that parked before
  local closable = coroutine.create(function() feed:recv(); coroutine.yield(1); error("never") end)  -- 12
  coroutine.resume(closable)
  ok("close a suspended coroutine that had parked", coroutine.close(closable) == true
    and coroutine.status(closable) == "dead")

  -- many coroutines interleaved, each pulling from the channel
  local cos = {}
  for k = 1, 5 do
    cos[k] = coroutine.wrap(function()
      while true do coroutine.yield(feed:recv()) end
    end)
  end
  local sum = 0
  for _ = 1, 20 do
    for k = 1, 5 do sum = sum + cos[k]() end
  end
  ok("5 interleaved coroutines pulled 100 values", sum == (13 + 112) * 100 // 2)
  return res
end

-- serves run_checks: the integers 1..112 in order on `feed`; after 8 it
-- takes one message from `out` and answers it on `feed`
local function helper(feed, out)
  for n = 1, 112 do
    feed:send(n)
    if n == 8 then feed:send("got: " .. out:recv()) end
  end
end

-- main chunk
do
  local feed, out = chan(), chan()
  go(helper, feed, out)
  for _, r in ipairs(run_checks(feed, out, "main")) do check(r[1], r[2]) end
end

-- inside a goroutine
local results = chan()
go(function()
  local feed, out = chan(), chan()
  go(helper, feed, out)
  results:send(run_checks(feed, out, "goroutine"))
end)
for _, r in ipairs(results:recv()) do check(r[1], r[2]) end
print("done")
