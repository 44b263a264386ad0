-- A write after cancel(): cancel orders what came before it before the
-- ctx:Done() observers; main writes t.x AFTER cancelling, so the
-- observer's read of t.x is concurrent with it.
local t = shared.table{}
local ctx, cancel = context.WithCancel(context.Background())
local wg = sync.WaitGroup()
wg:Add(1)
go(function()
  ctx:Done():recv()
  local v = t.x           -- RACE read after Done
  wg:Done()
end)
cancel()
t.x = 1                   -- RACE write after cancel
wg:Wait()
print("done")
