-- copy_and_share.lua: what crosses into a goroutine is copied; channels are
-- shared. The two mistakes a Go programmer makes first, and their fixes.

-- 1. Tables are copied: the goroutine changes its own copy.
local config = {retries = 3}
local done = chan()
go(function(cfg, done)
  cfg.retries = 99                     -- the goroutine's copy
  done:send(cfg.retries)
end, config, done)
print("goroutine saw", done:recv(), "main still has", config.retries)

-- 2. Mistake: filling a captured table from goroutines, as in Go.
local results = {}
local ok, err = pcall(function()
  go(function() results[1] = "x" end)
end)
print("refused:", not ok)
print((err:gsub("^.-go:", "go:")))

--    Fix: send the results back and fill the table where it lives.
local out = chan()
for i = 1, 3 do
  go(function(i, out) out:send({i, i * i}) end, i, out)
end
for _ = 1, 3 do
  local r = out:recv()
  results[r[1]] = r[2]
end
print("squares:", table.concat(results, " "))

-- 3. Mistake: a global counter bumped by goroutines.
counter = 0
ok, err = pcall(function()
  go(function() counter = counter + 1 end)
end)
print("refused:", not ok)
print((err:gsub("^.-go:", "go:")))

--    Fix: one goroutine owns the count; the others talk to it.
local bump, total = chan(), chan()
go(function(bump, total)
  local n = 0
  for _ in bump:range() do n = n + 1 end
  total:send(n)
end, bump, total)
for _ = 1, 10 do bump:send(true) end
bump:close()
print("count:", (total:recv()))

-- 4. Globals a goroutine reads are copied along, functions included.
function greet(name) return "hello, " .. name end
go(function(done) done:send(greet("goroutine")) end, done)
print((done:recv()))
