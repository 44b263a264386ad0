-- Publication through atomics (every atomic op acquires, writes release):
-- the writer writes t.data, then ready:Store(true); the reader spins on
-- ready:Load() and then reads t.data. Same with an atomic.Int64 sequence
-- number (Add) for a second item. No race.
local t = shared.table{}
local ready = atomic.Bool(false)
local seq = atomic.Int64(0)
local wg = sync.WaitGroup()
wg:Add(2)
go(function()
  t.data = "hello"
  ready:Store(true)
  t.more = "world"
  seq:Add(1)
  wg:Done()
end)
go(function()
  while not ready:Load() do runtime.Gosched() end
  local a = t.data
  while seq:Load() < 1 do runtime.Gosched() end
  t.out = a .. " " .. t.more
  wg:Done()
end)
wg:Wait()
print(t.out)
