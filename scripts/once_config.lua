-- once_config.lua: lazy configuration loaded exactly once (sync.Once),
-- by whichever of 5 goroutines needs it first; the others wait for it.
local once, config, loads = sync.Once(), atomic.Value(), atomic.Int64()

local function loadconfig()       -- pretend this reads a file
  loads:Add(1)
  time.Sleep(0.01)
  return {workers = 4, name = "lugo"}
end

local function getconfig()
  once:Do(function() config:Store(loadconfig()) end)
  return config:Load()             -- each caller gets its own copy
end

local wg, out = sync.WaitGroup(), chan(5)
for i = 1, 5 do
  wg:Go(function()
    local c = getconfig()
    out:send(string.format("goroutine %d: %s with %d workers", i, c.name, c.workers))
  end)
end
wg:Wait()
out:close()
local lines = {}
for l in out:range() do lines[#lines + 1] = l end
table.sort(lines)
print(table.concat(lines, "\n"))
print("config loaded", loads:Load(), "time(s)")
