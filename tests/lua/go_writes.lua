-- go_writes: go refuses, in the spawner, a goroutine that would assign a
-- copy and believe it changed the original (DESIGN section 2), naming the
-- variable and the line; and lets through what is the goroutine's own.
local function refused(f)
  local ok, err = pcall(f)
  assert(not ok, "expected go to refuse")
  print((err:gsub("^go_writes%.lua:%d+: ", "")))
end
local function allowed(f)
  local ok, err = pcall(f)
  print(ok and "allowed" or ("REFUSED: " .. err))
end

counter = 0
refused(function() go(function() counter = counter + 1 end) end)

local results = {}
refused(function() go(function(i) results[i] = i end, 1) end)
refused(function() go(function() results.last = true end) end)
refused(function() go(function() table.insert(results, 1) results[#results + 1] = 2 end) end)

local n = 0
refused(function() go(function() n = n + 1 end) end)
refused(function() go(function() local function bump() n = n + 1 end bump() end) end)

-- what is the goroutine's own is fine
local done = chan(8)
allowed(function() go(function(d) fresh_global = 1 d:send(fresh_global) end, done) end)
allowed(function() go(function(d) local m = 0 local function f() m = m + 1 end f() d:send(m) end, done) end)
allowed(function() go(function(d) local t = {} t[1] = 2 d:send(t[1]) end, done) end)
allowed(function() go(function(d) print = print d:send(3) end, done) end)
allowed(function() go(function(d) d:send(#results + counter + n) end, done) end)
-- functions passed as arguments keep their private state
local k = 0
local function count() k = k + 1 return k end
allowed(function() go(function(f, d) f() d:send(f()) end, count, done) end)
-- runtime objects in upvalues may be written through
allowed(function() go(function() done:send(4) end) end)

local got = {}
for _ = 1, 7 do got[#got + 1] = done:recv() end
table.sort(got)
print(table.concat(got, " "))
print("spawner unchanged:", counter, n, #results, k)
