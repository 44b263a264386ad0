-- pcall_chan: blocking channel operations inside pcall/xpcall (which are
-- yieldable), inside Lua metamethods and iterators, in the main chunk and in
-- goroutines. A goroutine parked inside pcall resumes inside it; errors
-- raised after the wake-up are caught by that pcall.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

-- All the checks, as one function, so it can run in main and in a goroutine.
-- `feed` is a channel served by a helper goroutine: every recv on it
-- blocks until the helper sends the next integer.
local function run_checks(feed, label)
  local res = {}
  local function ok(name, cond) res[#res + 1] = {label .. ": " .. name, cond} end

  local p, v, okv = pcall(function() return feed:recv() end)
  ok("blocking recv inside pcall", p == true and v == 1 and okv == true)

  p, v = pcall(function()
    return select(2, pcall(function()
      return select(2, pcall(function() return (feed:recv()) end))
    end))
  end)
  ok("blocking recv three pcalls deep", p == true and v == 2)

  local e
  p, e = pcall(function()
    local x = feed:recv()
    error("after park " .. x)
  end)
  ok("error after a park is caught by the same pcall", p == false and e:find("after park 3", 1, true) ~= nil)

  p, e = xpcall(function()
    local x = feed:recv()
    error("xp " .. x)
  end, function(m) return "handled: " .. m end)
  ok("xpcall: park, then error, then handler", p == false and e:find("^handled: .*xp 4$") ~= nil)

  local lazy = setmetatable({}, {__index = function(_, k) return k .. "=" .. feed:recv() end})
  ok("blocking recv in an __index metamethod", lazy.x == "x=5")

  local seen = {}
  for n in function() local n = feed:recv(); if n <= 8 then return n end end do
    seen[#seen + 1] = n
  end
  ok("blocking recv in a for iterator", table.concat(seen, ",") == "6,7,8")   -- 9 ended it

  local sum = 0
  for _ = 1, 1000 do
    local pp, n = pcall(feed.recv, feed)
    if pp then sum = sum + n end
  end
  ok("1000 pcall(feed.recv, feed) in a loop", sum == (10 + 1009) * 1000 // 2)

  local ch = chan()
  local pe, obj = pcall(error, ch)
  ok("a channel as an error object keeps its identity", pe == false and obj == ch)
  return res
end

local function feeder(out)
  for i = 1, 1009 do out:send(i) end
end

-- main chunk
local feed = chan()
go(feeder, feed)
for _, r in ipairs(run_checks(feed, "main")) do check(r[1], r[2]) end

-- inside a goroutine
local results = chan()
go(function()
  local f = chan()
  go(feeder, f)
  results:send(run_checks(f, "goroutine"))
end)
for _, r in ipairs(results:recv()) do check(r[1], r[2]) end

-- a send blocked inside pcall raises there when the channel is closed
local c = chan()
local out = chan()
go(function()
  local p, e = pcall(function() c:send("x") end)
  out:send(tostring(p) .. " " .. tostring(e:find("send on closed channel", 1, true) ~= nil))
end)
c:close()
check("blocked send inside pcall: close raises into that pcall", out:recv() == "false true")
print("done")
