-- A spinlock built on atomic.Bool:CompareAndSwap, released with Store
-- (atomic writes release; every atomic op acquires). Three goroutines do a
-- read-modify-write of t.n inside it. No race.
local t = shared.table{n = 0}
local lk = atomic.Bool(false)
local wg = sync.WaitGroup()
for _ = 1, 3 do
  wg:Go(function()
    for _ = 1, 50 do
      while not lk:CompareAndSwap(false, true) do runtime.Gosched() end
      t.n = t.n + 1
      lk:Store(false)
    end
  end)
end
wg:Wait()
print("n", t.n)
