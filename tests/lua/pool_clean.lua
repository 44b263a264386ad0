-- pool_clean: finished goroutines' states are reset and reused; the next
-- goroutine must see nothing of the previous one.  With -p 1 each goroutine
-- ends before the next starts, so each gets its predecessor's state.
local report, fin = chan(1), chan(100)

local function goroutine(i, report, fin)
  local seen = {}
  local function saw(what) seen[#seen + 1] = what end
  -- what a predecessor might have left
  if rawget(_G, "leftover") ~= nil then saw("global") end
  if _G.undefined_name ~= nil then saw("globals metatable") end
  if getmetatable("").leak ~= nil then saw("string metatable") end
  if not collectgarbage("isrunning") then saw("collector stopped") end
  local pause = collectgarbage("setpause", 200)
  if pause ~= 200 then saw("collector pause " .. pause) end
  if package.loaded.fake ~= nil then saw("package.loaded") end
  if ("x"):upper() ~= "X" then saw("string methods") end
  report:send(#seen == 0 and "clean" or table.concat(seen, ", "))
  -- and now leave all of it behind
  leftover = i
  getmetatable("").leak = true
  setmetatable(_G, {__index = function() return "leak" end})
  package.loaded.fake = {i = i}
  collectgarbage("setpause", 1000)
  collectgarbage("stop")
  -- a finalizer: it must run when the goroutine's state is reset
  keep = setmetatable({}, {__gc = function() fin:send(i) end})
end

local results = {}
for i = 1, 10 do
  go(goroutine, i, report, fin)
  results[#results + 1] = report:recv()
end
print(table.concat(results, " "))

-- a goroutine that switches to the generational collector gets a state of
-- its own that is closed, not reused
go(function(report)
  collectgarbage("generational")
  report:send("gen")
end, report)
report:recv()
go(function(report)
  report:send(collectgarbage("incremental"))  -- the previous mode
end, report)
print("after a generational goroutine:", report:recv())

-- every finalizer ran (the last one when its state was reset or closed)
local ran = {}
for _ = 1, 10 do ran[fin:recv()] = true end
local n = 0
for i = 1, 10 do if ran[i] then n = n + 1 end end
print("finalizers run:", n)

-- a file left open is closed (and flushed) by its finalizer at the reset:
-- the reset keeps the io metatable until the finalizers have run
local path = os.tmpname()
go(function(path, report)
  local f = io.open(path, "w")
  f:write("flushed by the finalizer")
  report:send("written")
end, path, report)
report:recv()
go(function(report) report:send("next") end, report)
report:recv()
local f = io.open(path)
print("file:", f:read("a"))
f:close()
os.remove(path)

-- the untouched stand-in metatables (strings, globals) are kept by a reset;
-- one a goroutine changed, in place, must not be: each goroutine below
-- checks, using no string operation (which would open the string library
-- and replace the stand-in), then tampers in place
local verdicts = {}
for i = 1, 8 do
  go(function(i, report)
    local smt, gmt = getmetatable(""), getmetatable(_G)
    local bad = {}
    if rawget(smt, "extra") ~= nil then bad[#bad + 1] = "string extra" end
    if rawequal(rawget(smt, "__add"), rawget(smt, "__sub")) then bad[#bad + 1] = "string swap" end
    if rawget(gmt, "extra") ~= nil then bad[#bad + 1] = "globals extra" end
    if rawget(gmt, "__newindex") ~= nil then bad[#bad + 1] = "globals newindex" end
    if rawget(smt, "__unm") == nil then bad[#bad + 1] = "string unm" end
    if i % 4 == 1 then smt.extra, gmt.extra = true, true
    elseif i % 4 == 2 then smt.__add = smt.__sub
    elseif i % 4 == 3 then gmt.__newindex = rawset
    else smt.__unm = nil end
    report:send(#bad == 0 and "clean" or bad[1])
  end, i, report)
  verdicts[i] = report:recv()
end
print("stand-ins:", table.concat(verdicts, " "))
