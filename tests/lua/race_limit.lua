-- Under -race, go and wg:Go refuse a goroutine past the detector's limit
-- of goroutines alive at once, with an error naming the function; the
-- program goes on, and the goroutines already made still run.
local gate = chan()
local n = 0
local ok, err = pcall(function()
  for _ = 1, 20000 do
    go(function() gate:recv() end)
    n = n + 1
  end
end)
print(n, ok, err)
local wg = sync.WaitGroup()
print(pcall(wg.Go, wg, function() end))
gate:close()
while runtime.NumGoroutine() > 1 do runtime.Gosched() end
go(function() end)  -- room again
print("after:", race.Errors())
