-- pipeline.lua: stages connected by channels.
--
-- Run it with:   lugo scripts/pipeline.lua
--
--   generate(1..100) --> square --> square --+
--                    \                      +--> merge --> sum (main)
--                     \--> square ----------+
--
-- Each stage is a goroutine that reads from an input channel and writes to
-- an output channel, and closes its output when its input is exhausted, so
-- the next stage's `range` loop ends. The first stage fans out to two
-- squaring workers (they compete for values); merge fans them back in.

-- Sends 1..n on a new channel, then closes it.
local function generate(n)
  local out = chan()
  go(function()
    for i = 1, n do out:send(i) end
    out:close()
  end)
  return out
end

-- Squares every value of `input`.
local function square(input)
  local out = chan()
  go(function()
    for v in input:range() do out:send(v * v) end
    out:close()
  end)
  return out
end

-- Copies values from all input channels onto one output channel, and closes
-- it once every input is closed. Each forwarding goroutine reports "done"
-- on a channel; the last report closes the output.
local function merge(...)
  local inputs = {...}
  local out, done = chan(), chan()
  for _, input in ipairs(inputs) do
    go(function()
      for v in input:range() do out:send(v) end
      done:send(true)
    end)
  end
  go(function()
    for _ = 1, #inputs do done:recv() end
    out:close()
  end)
  return out
end

local numbers = generate(100)
local squares = merge(square(numbers), square(numbers))   -- fan out, fan in

local sum, count = 0, 0
for v in squares:range() do
  sum = sum + v
  count = count + 1
end
print("values: " .. count)
print("sum of squares of 1..100: " .. sum)
