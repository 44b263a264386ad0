-- stress_shared: 8 goroutines hammer one shared table on -p 2.  Each owns
-- its keys (read-modify-write on them is not a race), shared counters go
-- through a Mutex (a key of the table) or an atomic stored in the table;
-- nested tables, long strings and functions are written and read all the
-- while.  The final table must be exact: per-key counts, per-goroutine
-- checksums, the Mutex total and the atomic.

local G, ITER, KEYS = 8, 50000, 50
local t = shared.table{total = 0, hits = atomic.Int64(0), mu = sync.Mutex(), per = {}}
local wg = sync.WaitGroup()

for g = 1, G do
  wg:Go(function(t, g, ITER, KEYS)
    local prefix = "g" .. g .. ":"
    local mu, hits = t.mu, t.hits
    t.per[g] = {sum = 0, log = {}}
    local mine = t.per[g]
    t["f" .. g] = function(x) return x + g end
    for i = 1, ITER do
      local k = prefix .. (i % KEYS)
      t[k] = (t[k] or 0) + 1                     -- our own key
      mine.sum = mine.sum + i                    -- our own nested table
      if i % 100 == 0 then
        mine.log[#mine.log + 1] = i              -- # on our own table
        t["s" .. g] = ("x"):rep(i % 300 + 20)    -- long strings replaced
        assert(#t["s" .. g] == i % 300 + 20)
        assert(t["f" .. g](i) == i + g)          -- a function, cached
      end
      if i % 10 == 0 then
        mu:Lock()
        t.total = t.total + 1                    -- shared: under the Mutex
        mu:Unlock()
      end
      hits:Add(1)                                -- shared: atomic
      if i % 1000 == 0 then
        local n = 0
        for _ in pairs(t.per) do n = n + 1 end   -- snapshots while others write
        assert(n >= 1 and n <= 8)
      end
    end
  end, t, g, ITER, KEYS)
end
wg:Wait()

local bad = 0
for g = 1, G do
  local count = 0
  for key = 0, KEYS - 1 do
    local v = t["g" .. g .. ":" .. key]
    if v ~= ITER // KEYS then bad = bad + 1 end
    count = count + v
  end
  if count ~= ITER then bad = bad + 1 end
  local mine = t.per[g]
  if mine.sum ~= ITER * (ITER + 1) // 2 then bad = bad + 1 end
  if #mine.log ~= ITER // 100 or mine.log[#mine.log] ~= ITER then bad = bad + 1 end
  if t["s" .. g] ~= ("x"):rep(ITER % 300 + 20) then bad = bad + 1 end
end
print("per-key counts and checksums exact:", bad == 0)
print("mutex total:", t.total, t.total == G * ITER // 10)
print("atomic hits:", t.hits:Load(), t.hits:Load() == G * ITER)
local entries = 0
for _ in pairs(t) do entries = entries + 1 end
print("entries:", entries)
