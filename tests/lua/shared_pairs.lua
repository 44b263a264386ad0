-- shared_pairs: pairs(t) iterates a snapshot of the whole table taken when
-- the loop starts (one atomic copy): writes made during the loop, by this
-- goroutine or by others, do not show in it.  ipairs reads t[1], t[2]...
-- one access at a time.  Runs with -p 2, a writer in parallel.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local t = shared.table{a = 1, b = 2, c = 3}

-- writes during the loop do not show -------------------------------------------
local seen, n = {}, 0
for k, v in pairs(t) do
  n = n + 1
  seen[k] = v
  t[k] = v * 100          -- change every value
  t[k .. k] = 0           -- add keys
end
check("the loop saw the table as it was", n == 3 and seen.a == 1 and seen.b == 2 and seen.c == 3)
local now = {}
for k in pairs(t) do now[#now + 1] = k end
table.sort(now)
check("the writes happened", table.concat(now, ",") == "a,aa,b,bb,c,cc" and t.a == 100)
n = 0
for k in pairs(t) do
  n = n + 1
  for k2 in pairs(t) do t[k2] = nil end   -- empty the table at the first step
end
check("deleting everything during the loop", n == 6)
for k in pairs(t) do n = n + 1 end
check("... it is empty afterwards", n == 6)
t.a, t.aa, t.b, t.bb = 1, 1, 1, 1

-- nested loops, early exit ----------------------------------------------------------
local pairs_count = 0
for _ in pairs(t) do
  for _ in pairs(t) do pairs_count = pairs_count + 1 end
end
check("nested loops each have their own snapshot", pairs_count == 16)
for k in pairs(t) do if k then break end end   -- its snapshot goes with the GC

-- a writer in parallel: each snapshot is one moment -------------------------------
-- The writer stores 1, 2, 3, ... in order and never deletes, so at any moment
-- the keys present are exactly 1..m: a snapshot holding key m must hold every
-- key below it.  A walk of the live table could see m and miss a key moved by
-- a resize.
local N = 100000
local s = shared.table()
local done = atomic.Bool(false)
local started = chan()
go(function(s, done, started, N)
  s[1] = 1
  started:send(true)
  for i = 2, N do s[i] = i end
  done:Store(true)
end, s, done, started, N)
started:recv()
local snapshots, bad, last = 0, 0, 0
repeat
  local finished = done:Load()
  local count, max = 0, 0
  for k, v in pairs(s) do
    count = count + 1
    if k > max then max = k end
    if v ~= k then bad = bad + 1 end
  end
  if count ~= max or max < last then bad = bad + 1 end
  last = max
  snapshots = snapshots + 1
until finished
check("every snapshot was consistent", bad == 0, bad)
check("the last one saw everything", last == N)
if os.getenv("SHARED_PAIRS_VERBOSE") then print("snapshots taken while writing:", snapshots) end

-- ipairs and # on a table another goroutine changes --------------------------------
local q = shared.table()
for i = 1, 1000 do q[i] = i end
local stop = atomic.Bool(false)
local wg = sync.WaitGroup()
wg:Go(function(q, stop)
  local i = 1000
  while not stop:Load() do   -- grows and shrinks the sequence at its end
    q[i] = nil
    q[i] = i
    runtime.Gosched()
  end
end, q, stop)
local walks_ok = true
for _ = 1, 200 do
  local count = 0
  for i, v in ipairs(q) do
    if v ~= i then walks_ok = false end
    count = count + 1
  end
  if count < 999 or count > 1000 then walks_ok = false end
  local len = #q
  if len ~= 999 and len ~= 1000 then walks_ok = false end
end
stop:Store(true)
wg:Wait()
check("ipairs and # see a border at each step", walks_ok)
print("done")
