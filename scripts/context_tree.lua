-- context_tree.lua: stop a tree of workers by cancelling contexts.
--
-- Run it with:   lugo scripts/context_tree.lua
--
-- Contexts form a tree: cancelling one cancels everything below it, and
-- nothing above it. Here a server context has a context per team, and
-- each worker gets its own child of its team's. Workers run until their
-- ctx:Done() closes, then report. Cancelling one team stops only its
-- workers; cancelling the server stops everyone. Contexts cross goroutines
-- by reference, so the workers see the very contexts main cancels.

local server, stop_server = context.WithCancel(context.Background())
local reports = chan(100)
local ready = sync.WaitGroup()

local function worker(ctx, reports, ready)
  ready:Done()
  while true do
    -- a worker's loop: do a unit of work, unless the context is done
    local i = select {
      {recv = ctx:Done()},
      default = "work",
    }
    if i == 1 then break end
    time.Sleep(time.Millisecond)  -- the "work"
  end
  reports:send(string.format("%s worker %d stopped: %s",
                             ctx:Value("team"), ctx:Value("worker"), ctx:Err()))
end

local stop_team = {}
for _, team in ipairs({"red", "green", "blue"}) do
  local tctx, cancel = context.WithCancel(server)
  tctx = context.WithValue(tctx, "team", team)  -- workers can ask who they are
  stop_team[team] = cancel
  for w = 1, 3 do
    local wctx = context.WithCancel(context.WithValue(tctx, "worker", w))
    ready:Add(1)
    go(worker, wctx, reports, ready)
  end
end
ready:Wait()

-- Reports arrive in any order: collect n of them and sort.
local function collect(n)
  local got = {}
  for _ = 1, n do got[#got + 1] = (reports:recv()) end
  table.sort(got)
  return table.concat(got, "\n")
end

print("-- cancel the green team")
stop_team.green()
print(collect(3))
print("server still running:", server:Err() == nil)

print("-- cancel the server")
stop_server()
print(collect(6))
print("server:", server:Err())
