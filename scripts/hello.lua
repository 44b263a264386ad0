-- hello.lua: your first goroutines.
--
-- Run it with:   lugo scripts/hello.lua
--
-- go(fn, ...) starts fn(...) in a new goroutine and returns at once with the
-- goroutine's id. Goroutines run at the same time as the code that started
-- them, possibly on other CPU cores.
--
-- Each goroutine has its own Lua state: the function and its arguments are
-- COPIED into it, so goroutines share nothing by accident. They talk over
-- channels: chan() makes one, ch:send(v) puts a value in, ch:recv() takes
-- one out (waiting until there is one).

print("hello from main")

-- A channel to hear back from the goroutine. Without it, main could reach
-- the end of the file first, and the program ends when main ends (as in Go):
-- unfinished goroutines are simply abandoned.
local done = chan()

go(function()
  print("hello from a goroutine")
  done:send(true)          -- "I'm finished"
end)

done:recv()                -- wait for it

-- Several goroutines run in an unpredictable order. To print in a fixed
-- order, collect their answers and sort them (or print them in the order
-- of your choosing).
local answers = chan()
for i = 1, 3 do
  go(function(n)           -- n is a copy of i, passed as an argument
    answers:send("goroutine " .. n .. " says hi")
  end, i)
end

local lines = {}
for _ = 1, 3 do
  -- recv returns two values (the value and true), like Go's v, ok := <-ch;
  -- the parentheses keep only the first one
  table.insert(lines, (answers:recv()))
end
table.sort(lines)
for _, line in ipairs(lines) do print(line) end
print("bye")
