-- big_string: a 50 MB string crosses goroutines intact: over an unbuffered
-- channel, back again, and as a go() argument inside a table.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local N = 50 * 1024 * 1024
local big = "<" .. string.rep("0123456789abcdef", N // 16):sub(2, -2) .. ">"
assert(#big == N)

-- a cheap fingerprint: length, ends, middle, and every 4099th byte summed
local function fingerprint(s)
  local acc = 0
  for i = 1, #s, 4099 do acc = acc + s:byte(i) end
  return #s .. ":" .. s:sub(1, 4) .. ":" .. s:sub(-4) .. ":" .. s:sub(N // 2 + 1, N // 2 + 8) .. ":" .. acc
end
local fp = fingerprint(big)

local c, back = chan(), chan()
go(function()
  local s = c:recv()
  back:send(fingerprint(s))
  back:send(s)                 -- and the whole string back again
end)
c:send(big)
check("fingerprint in the receiver", back:recv() == fp)
local again = back:recv()
check("round trip: equal length", #again == N)
check("round trip: equal content", again == big)
again = nil

go(function(t) back:send(fingerprint(t.payload) .. "/" .. t.tag) end, {payload = big, tag = "arg"})
check("as a go() argument inside a table", back:recv() == fp .. "/arg")

-- buffered: the copy sits in the channel until received
local b = chan(1)
b:send(big)
big = nil
collectgarbage()
local s = b:recv()
check("buffered copy outlives the original", fingerprint(s) == fp)
print("done")
