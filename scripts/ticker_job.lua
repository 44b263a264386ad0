-- ticker_job.lua: a periodic job driven by a time.Ticker that stops
-- cleanly when asked, as in Go:
--
--   ticker := time.NewTicker(d); defer ticker.Stop()
--   for { select { case <-done: return; case t := <-ticker.C: work(t) } }
--
-- Run it with:   lugo scripts/ticker_job.lua

local function job(done, report)
  local ticker = time.NewTicker(10 * time.Millisecond)
  local runs = 0
  while true do
    local stop = select {
      {recv = done, function() return true end},
      {recv = ticker.C, function(t)
        runs = runs + 1
        report:send("tick " .. runs)   -- the periodic work
      end},
    }
    if stop then
      ticker:Stop()                    -- Go's `defer ticker.Stop()`
      report:send("stopped after " .. runs .. " ticks")
      return
    end
  end
end

local done, report = chan(), chan()
go(job, done, report)

-- let it run five times, then ask it to stop
for _ = 1, 5 do print((report:recv())) end
done:close()                            -- closing wakes every receiver
-- a tick may already be on its way: read until the job says it stopped
while true do
  local msg = report:recv()
  if msg:find("^stopped") then print("job stopped cleanly") break end
end

-- time.Tick is the short form when the ticker lives as long as the program
local tick = time.Tick(5 * time.Millisecond)
for i = 1, 3 do tick:recv() print("Tick " .. i) end

-- A timer that is stopped never fires; Reset arms it again.
local t = time.NewTimer(time.Hour)
print("stopped a pending timer:", t:Stop())
t:Reset(time.Millisecond)
t.C:recv()
print("the reset timer fired")

-- AfterFunc runs a function in its own goroutine after a delay.
local fired = chan()
time.AfterFunc(5 * time.Millisecond, function() fired:send("AfterFunc ran") end)
print((fired:recv()))
