-- select_storm: many goroutines selecting over many channels while those
-- channels are being closed.
--   1. 8 producers (buffered and unbuffered channels) each send 5000 values
--      and close; 4 selectors drain all 8 with one select, switching each
--      case off (recv = false) once they see it closed. Exactly-once check.
--   2. 8 senders select-send on an unbuffered channel until it is closed
--      under them: successful sends == values received (exactly), and every
--      sender ends with `send on closed channel`.
--   3. the same on a buffered channel: successful sends == received before
--      the close + drained after it.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

-- 1 ---------------------------------------------------------------------------
local K, N, S = 8, 5000, 4
local srcs = {}
for k = 1, K do
  srcs[k] = chan(k % 2 == 0 and 0 or k * 4)   -- half unbuffered, half buffered
  go(function(c, base)
    for i = 1, N do c:send(base + i) end
    c:close()
  end, srcs[k], (k - 1) * N)
end

local tallies = chan(S)
for _ = 1, S do
  go(function()
    local open = {}
    for k = 1, K do open[k] = true end
    local nopen, count, sum = K, 0, 0
    while nopen > 0 do
      local cases = {}
      for k = 1, K do cases[k] = {recv = open[k] and srcs[k]} end
      local i, v, ok = select(cases)
      if ok then
        count, sum = count + 1, sum + v
      else
        open[i] = false
        nopen = nopen - 1
      end
    end
    tallies:send({count, sum})
  end)
end
local count, sum = 0, 0
for _ = 1, S do
  local t = tallies:recv()
  count, sum = count + t[1], sum + t[2]
end
check("storm 1: every value received exactly once", count == K * N and sum == K * N * (K * N + 1) // 2,
  count .. " " .. sum)

-- 2 and 3 ---------------------------------------------------------------------
local function close_under_senders(cap, R)
  local sink = chan(cap)
  local quit = chan()                 -- never ready: a second case to select over
  local reports = chan(8)
  for _ = 1, 8 do
    go(function()
      local sent = 0
      while true do
        local ok, err = pcall(select, {
          {send = sink, value = 1},
          {recv = quit},
        })
        if not ok then
          reports:send({sent, tostring(err):find("send on closed channel", 1, true) ~= nil})
          return
        end
        sent = sent + 1
      end
    end)
  end
  for _ = 1, R do assert(sink:recv() == 1) end
  sink:close()
  local drained = 0
  for _ in sink:range() do drained = drained + 1 end
  local sent, allraised = 0, true
  for _ = 1, 8 do
    local r = reports:recv()
    sent = sent + r[1]
    allraised = allraised and r[2]
  end
  return sent, R + drained, allraised, drained
end

local sent, received, allraised = close_under_senders(0, 20000)
check("storm 2 (unbuffered): successful sends == values received", sent == received and received == 20000,
  sent .. " vs " .. received)
check("storm 2: every sender got 'send on closed channel'", allraised)

local drained
sent, received, allraised, drained = close_under_senders(16, 20000)
check("storm 3 (buffered): successful sends == received + drained", sent == received, sent .. " vs " .. received)
check("storm 3: drained no more than the capacity", drained <= 16, drained)
check("storm 3: every sender got 'send on closed channel'", allraised)

-- 4: receivers blocked in select on channels closed by other goroutines ------
local pairs_n = 200
local done = chan(pairs_n)
for _ = 1, pairs_n do
  local a, b = chan(), chan()
  go(function()
    local i, v, ok = select { {recv = a}, {recv = b} }
    done:send((v == nil and ok == false) and i or -1)
  end)
  go(function() a:close(); b:close() end)
end
local okcount = 0
for _ = 1, pairs_n do
  local i = done:recv()
  if i == 1 or i == 2 then okcount = okcount + 1 end
end
check("storm 4: 200 selects woken by closes with nil, false", okcount == pairs_n, okcount)
print("done")
