-- lugoshim.lua: a FUNCTIONAL stand-in for lugo's Lua API (go, chan, select,
-- time) built on stock lua5.4 coroutines, so bench/lugo/*.lua can be smoke-
-- tested before the lugo binary exists. Timings it produces are meaningless
-- (busy-polling single-threaded scheduler, no copying semantics).
-- usage: lua5.4 bench/tools/lugoshim.lua bench/lugo/pingpong.lua [args...]
local script = assert(arg[1], "usage: lua5.4 lugoshim.lua script.lua [args...]")
local yield = coroutine.yield

local runq = {}                     -- all live coroutines (busy-polled)

function go(fn, ...)
  local args = table.pack(...)
  runq[#runq + 1] = coroutine.create(function() fn(table.unpack(args, 1, args.n)) end)
end

local Chan = {}
Chan.__index = Chan
Chan.__len = function(c) return c.tail - c.head end

function chan(n)
  return setmetatable({cap = n or 0, buf = {}, head = 0, tail = 0,
                       taken = 0, closed = false}, Chan)
end

function Chan:send(v)
  assert(v ~= nil, "send of nil")
  while not self.closed and (self.tail - self.head) >= math.max(self.cap, 1) do yield() end
  assert(not self.closed, "send on closed channel")
  local ticket = self.tail
  self.buf[ticket] = v
  self.tail = ticket + 1
  if self.cap == 0 then             -- unbuffered: wait until a receiver took it
    while self.taken <= ticket do yield() end
  end
end

function Chan:tryrecv()
  if self.tail > self.head then
    local v = self.buf[self.head]
    self.buf[self.head] = nil
    self.head = self.head + 1
    self.taken = self.head
    return true, v, true
  elseif self.closed then
    return true, nil, false
  end
  return false
end

function Chan:recv()
  while true do
    local ready, v, ok = self:tryrecv()
    if ready then return v, ok end
    yield()
  end
end

function Chan:close() self.closed = true end

function Chan:range()
  return function()
    local v, ok = self:recv()
    if ok then return v end
  end
end

function select(cases)
  while true do
    for _, c in ipairs(cases) do
      if c.recv then
        local ready, v, ok = c.recv:tryrecv()
        if ready then return c[1] and c[1](v, ok) end
      elseif c.send and (c.send.tail - c.send.head) < math.max(c.send.cap, 1) then
        c.send:send(c.value)
        return c[1] and c[1]()
      end
    end
    if cases.default then return cases.default() end
    yield()
  end
end

time = {
  Now = os.clock,
  Since = function(t) return os.clock() - t end,
  Sleep = function(d) local t = os.clock() + d; repeat yield() until os.clock() >= t end,
}

-- run the script as the main goroutine; exit when it returns
arg = table.move(arg, 1, #arg, 0, {})
local main = coroutine.create(assert(loadfile(script)))
local args = table.move(arg, 1, #arg, 1, {})
local ok, err = coroutine.resume(main, table.unpack(args))
if not ok then error(err, 0) end
while coroutine.status(main) ~= "dead" do
  local i = 1
  while i <= #runq do
    local co = runq[i]
    local ok2, err2 = coroutine.resume(co)
    if not ok2 then error(err2, 0) end
    if coroutine.status(co) == "dead" then
      runq[i] = runq[#runq]; runq[#runq] = nil
    else
      i = i + 1
    end
  end
  ok, err = coroutine.resume(main)
  if not ok then error(err, 0) end
end
