-- select_timeout.lua: give up waiting after a while, with select and
-- time.After.
--
-- Run it with:   lugo scripts/select_timeout.lua
--
-- time.After(d) returns a channel that receives a value after d seconds.
-- Used as one case of a select, it bounds how long the select can wait.

-- A "service" that answers on a reply channel.
local function fast_service(question, reply)
  reply:send("the answer to '" .. question .. "' is 42")
end

-- A "service" that hangs: it waits on a channel nobody ever sends on.
local function stuck_service(question, reply)
  chan():recv()
  reply:send("never sent")
end

-- Asks a question and waits at most `timeout` seconds for the answer.
local function ask(service, question, timeout)
  local reply = chan(1)      -- buffered: a late answer never blocks the service
  go(service, question, reply)
  return select {
    {recv = reply, function(answer) return answer end},
    {recv = time.After(timeout), function() return "timed out after " .. timeout .. " s" end},
  }
end

-- 1. The service answers almost at once, long before the 2 s deadline.
--    Durations are seconds (floats): 2 == 2 * time.Second.
print(ask(fast_service, "life", 2))

-- 2. The stuck service never answers, so the timer wins. (The stuck
--    goroutine is simply abandoned when the program ends.)
print(ask(stuck_service, "the universe", 0.05))

-- 3. `default` makes select non-blocking: poll without waiting at all.
local empty = chan()
print(select {
  {recv = empty, function() return "got something" end},
  default = function() return "nothing ready, not waiting" end,
})
