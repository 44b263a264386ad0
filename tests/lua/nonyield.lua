-- nonyield: channel operations, select and time.Sleep where Lua cannot yield
-- (table.sort comparators, string.gsub callbacks, __tostring called by
-- tostring, xpcall message handlers, a coroutine running inside such a
-- callback). They still work: the goroutine blocks its OS thread and the
-- scheduler hands its processor to another thread, so the goroutines that
-- feed them keep running. nonyield_p1 runs this same file with -p 1.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

-- sends `values` one by one on a fresh unbuffered channel
local function feeder(values)
  local c = chan()
  go(function()
    for _, v in ipairs(values) do c:send(v) end
  end)
  return c
end

local function counter_from(n)
  local c = chan()
  go(function(k)
    while true do c:send(k); k = k + 1 end
  end, n)
  return c
end

local function checks(label)
  local res = {}
  local function ok(name, cond) res[#res + 1] = {label .. ": " .. name, cond} end

  -- recv in a table.sort comparator: every comparison takes the next integer
  local ints = counter_from(1)
  local t = {5, 3, 8, 1, 9, 2, 7, 4, 6}
  local expect, inorder = 1, true
  table.sort(t, function(a, b)
    if ints:recv() ~= expect then inorder = false end
    expect = expect + 1
    return a < b
  end)
  ok("recv in a sort comparator", table.concat(t, "") == "123456789" and inorder and expect >= 9)

  -- send from a sort comparator to a counting goroutine (unbuffered)
  local pairs_c, total = chan(), chan()
  go(function()
    local n = 0
    for _ in pairs_c:range() do n = n + 1 end
    total:send(n)
  end)
  local ncmp = 0
  local u = {"d", "a", "c", "b", "e"}
  table.sort(u, function(a, b)
    ncmp = ncmp + 1
    pairs_c:send(a .. b)
    return a > b
  end)
  pairs_c:close()
  ok("send from a sort comparator", table.concat(u) == "edcba" and total:recv() == ncmp)

  -- recv in a gsub callback
  local digits = feeder({"1", "2", "3"})
  local s = ("a b c"):gsub("%a", function(ch) return ch .. digits:recv() end)
  ok("recv in a gsub callback", s == "a1 b2 c3")

  -- select (blocking) in a gsub callback
  local words = feeder({"x", "y"})
  s = ("1-2"):gsub("%d", function()
    local _, v = select { {recv = false}, {recv = words} }
    return v
  end)
  ok("select in a gsub callback", s == "x-y")

  -- time.Sleep in a comparator
  local v = {2, 1}
  table.sort(v, function(a, b) time.Sleep(0.001); return a < b end)
  ok("time.Sleep in a comparator", v[1] == 1 and v[2] == 2)

  -- recv in __tostring, called by tostring (a C function)
  local names = feeder({"named by a goroutine"})
  local obj = setmetatable({}, {__tostring = function() return names:recv() end})
  ok("recv in __tostring", tostring(obj) == "named by a goroutine")

  -- recv in an xpcall message handler
  local notes = feeder({"+note"})
  local _, msg = xpcall(error, function(m) return m .. notes:recv() end, "E", 0)
  ok("recv in an xpcall message handler", msg == "E+note")

  -- a coroutine inside a comparator: the coroutine could yield, its caller cannot
  local nums = feeder({10, 20, 30, 40, 50, 60, 70, 80})
  local w = {3, 1, 2}
  local got = 0
  table.sort(w, function(a, b)
    got = got + coroutine.wrap(function() return nums:recv() end)()
    return a < b
  end)
  ok("blocking inside a coroutine inside a comparator", table.concat(w) == "123" and got >= 30)

  -- two goroutines, both in non-yieldable code, meeting on one channel
  local meet, report = chan(), chan()
  go(function()
    table.sort({2, 1}, function(a, b) meet:send("from sort"); return a < b end)
    report:send("sorted")
  end)
  go(function()
    local r = ("?"):gsub("%?", function() return meet:recv() end)
    report:send(r)
  end)
  local a, b = report:recv(), report:recv()
  if a > b then a, b = b, a end
  ok("sort comparator sends to gsub callback", a == "from sort" and b == "sorted")

  -- several goroutines blocked in comparators at the same time
  local gate, done = chan(), chan()
  for k = 1, 4 do
    go(function()
      local arr = {k + 2, k + 1, k}
      table.sort(arr, function(x, y) gate:recv(); return x < y end)
      done:send(arr[1] == k and arr[3] == k + 2)
    end)
  end
  go(function() while true do gate:send(true) end end)
  local all = true
  for _ = 1, 4 do all = (done:recv() == true) and all end
  ok("4 goroutines blocked in comparators at once", all)
  return res
end

for _, r in ipairs(checks("main")) do check(r[1], r[2]) end

local results = chan()
go(function() results:send(checks("goroutine")) end)
for _, r in ipairs(results:recv()) do check(r[1], r[2]) end
print("done")
