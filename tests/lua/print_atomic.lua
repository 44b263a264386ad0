-- print_atomic: print from concurrent goroutines never interleaves within a
-- line: each call formats its whole line and writes it at once. 8 goroutines
-- print the same multi-argument line 60 times each, all at the same time;
-- the output must be exactly 480 intact copies of that line.

local W, L = 8, 60
local start = chan()
local done = chan(W)
for _ = 1, W do
  go(function()
    start:recv()                       -- everyone starts together
    for _ = 1, L do
      print(string.rep("a", 40), 12345, string.rep("b", 40), true, 1.5, nil, string.rep("c", 20))
    end
    done:send(true)
  end)
end
start:close()
for _ = 1, W do done:recv() end
print("done")
