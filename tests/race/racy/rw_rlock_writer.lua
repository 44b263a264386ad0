-- RWMutex where the writers only take RLock: read locks do not exclude
-- each other and RUnlock -> RLock is no edge (RUnlock only releases to a
-- later Lock), so the two increments of "n" are unordered.
local t = shared.table{n = 0}
local rw = sync.RWMutex()
local wg = sync.WaitGroup()
local function writer()
  rw:RLock()
  local v = t.n           -- RACE read
  t.n = v + 1             -- RACE write
  rw:RUnlock()
  wg:Done()
end
wg:Add(2)
go(writer)
go(writer)
wg:Wait()
print("done")
