-- lua5.4 baseline for lugo's fanin: 4 producer coroutines push N/4 ints each
-- into a bounded (128) ring-buffer queue; a producer yields when the queue is
-- full, and the consumer (main) drains the queue and resumes the producers
-- round-robin when it is empty. Reports millions of messages per second.
-- usage: lua5.4 fanin.lua [N=1000000]
local N = tonumber(arg and arg[1]) or 1000000
local P = 4
local CAP = 128
local per = N // P
local total = per * P

local yield, resume, status = coroutine.yield, coroutine.resume, coroutine.status
local q, head, tail = {}, 1, 1       -- elements q[head .. tail-1] (mod CAP)
local count = 0

local function producer(n)
  for i = 1, n do
    while count >= CAP do yield() end
    q[tail] = i
    tail = tail % CAP + 1
    count = count + 1
  end
end

local t0 = os.clock()
local prods = {}
for p = 1, P do prods[p] = coroutine.create(producer) end
local sum, got, nextp = 0, 0, 1
while got < total do
  if count == 0 then
    local co = prods[nextp]
    if status(co) == "suspended" then
      assert(resume(co, per))        -- `per` only matters on the first resume
    end
    nextp = nextp % P + 1
  else
    sum = sum + q[head]
    head = head % CAP + 1
    count = count - 1
    got = got + 1
  end
end
local elapsed = os.clock() - t0

assert(sum == P * per * (per + 1) // 2, "fanin: wrong sum " .. sum)
print(string.format("fanin %.3f Mmsg/s", total / elapsed / 1e6))
