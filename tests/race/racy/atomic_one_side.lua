-- An atomic used on one side only: the writer stores t.data then
-- ready:Store(true) (a release), but the reader never Loads ready; it
-- spins on t.data itself. Without the acquire there is no edge.
local t = shared.table{}
local ready = atomic.Bool(false)
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  t.data = 42                   -- RACE write
  ready:Store(true)
  wg:Done()
end)
go(function()
  while t.data == nil do        -- RACE read
    runtime.Gosched()
  end
  wg:Done()
end)
wg:Wait()
print("done", ready:Load())
