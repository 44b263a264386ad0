-- memo.lua: the Go book's concurrent, non-blocking memoizing cache with
-- duplicate suppression (gopl.io/ch9/memo5), in lugo.
--
-- A monitor goroutine owns the cache. A request for a key nobody asked for
-- yet starts one goroutine to compute it; requests that arrive while it
-- runs wait for that same result instead of computing it again; later
-- requests are answered from the cache. Only channels are shared.

local function newmemo(f)
  local requests, results = chan(), chan()
  go(function()
    local cache = {}  -- key -> {done = bool, value = v, waiting = {replies}}
    while true do
      select{
        {recv = requests, function(req)
          local e = cache[req.key]
          if e == nil then              -- first request: compute, once
            e = {done = false, waiting = {}}
            cache[req.key] = e
            go(function(key)
              results:send({key = key, value = f(key)})
            end, req.key)
          end
          if e.done then req.reply:send(e.value)
          else e.waiting[#e.waiting + 1] = req.reply end
        end},
        {recv = results, function(r)
          local e = cache[r.key]
          e.done, e.value = true, r.value
          for _, reply in ipairs(e.waiting) do reply:send(r.value) end
          e.waiting = nil
        end},
      }
    end
  end)
  return function(key)  -- get(key): ask the monitor, wait for the answer
    local reply = chan(1)
    requests:send({key = key, reply = reply})
    return reply:recv()
  end
end

-- an "expensive" function (the book fetches URLs): it counts its calls
local calls = {}
for k = 1, 5 do calls[k] = atomic.Int64() end
local get = newmemo(function(n)
  calls[n]:Add(1)
  time.Sleep(0.01)  -- the slow part
  return n * n
end)

-- 20 goroutines ask for the 5 keys at the same time, 4 times each
local wg, answers = sync.WaitGroup(), chan(100)
for g = 1, 20 do
  wg:Go(function()
    for i = 1, 4 do
      local key = (g + i) % 5 + 1
      answers:send(key .. "=" .. get(key))
    end
  end)
end
wg:Wait()
answers:close()
local seen = {}
for a in answers:range() do seen[a] = (seen[a] or 0) + 1 end
local keys = {}
for a, n in pairs(seen) do keys[#keys + 1] = a .. " x" .. n end
table.sort(keys)
print(table.concat(keys, ", "))
for k = 1, 5 do
  print("key " .. k .. ": computed " .. calls[k]:Load() .. " time(s)")
end
