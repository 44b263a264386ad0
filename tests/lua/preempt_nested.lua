-- preempt_nested: preemption of code running inside Lua coroutines (which
-- lugo's coroutine.resume/wrap forward to the scheduler and then resume):
-- with one processor (-p 1), long computations inside coroutines interleave
-- with other goroutines and still produce exact results; a preemption never
-- looks like a yield to the coroutine's caller.

local N = 50000000
local expect = N * (N + 1) // 2

local results = chan()

-- a long loop inside coroutine.wrap, which then yields its result
go(function()
  local co = coroutine.wrap(function()
    local s = 0
    for i = 1, N do s = s + i end
    coroutine.yield(s)
    return "second"
  end)
  local first = co()
  local second = co()
  results:send({"wrap", first == expect and second == "second"})
end)

-- the same through coroutine.resume, two levels deep
go(function()
  local outer = coroutine.create(function()
    local inner = coroutine.create(function()
      local s = 0
      for i = 1, N do s = s + i end
      return s
    end)
    local ok, s = coroutine.resume(inner)
    coroutine.yield(ok, s)
  end)
  local r = table.pack(coroutine.resume(outer))
  results:send({"resume", r.n == 3 and r[1] == true and r[2] == true and r[3] == expect})
end)

-- a generator that yields very often while being preempted
go(function()
  local gen = coroutine.wrap(function()
    for i = 1, 3000000 do coroutine.yield(i) end
    return nil
  end)
  local s = 0
  for v in gen do s = s + v end
  results:send({"generator", s == 3000000 * 3000001 // 2})
end)

-- an infinite loop in a coroutine inside pcall never returns to its caller
go(function()
  pcall(coroutine.wrap(function() while true do end end))
  results:send({"spinner", false})   -- not reached
end)

local got = {}
for _ = 1, 3 do
  local r = results:recv()
  got[#got + 1] = r[1] .. " " .. tostring(r[2])
end
table.sort(got)
for _, line in ipairs(got) do print(line) end
os.exit(0)
