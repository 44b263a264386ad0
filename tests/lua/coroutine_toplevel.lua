-- coroutine_toplevel: at a goroutine's top level (and in the main chunk),
-- coroutine.yield raises `attempt to yield from outside a coroutine` and
-- coroutine.isyieldable() is false, exactly as in `lua`'s main chunk: a
-- goroutine cannot yield itself out of the scheduler. Inside coroutines
-- everything is as usual.

local function check(name, cond, detail)
  assert(cond, "FAILED: " .. name .. (detail ~= nil and " [" .. tostring(detail) .. "]" or ""))
  print("ok " .. name)
end

local function toplevel_checks()
  local r = {}
  r.isyieldable = coroutine.isyieldable()
  local _, inpcall = pcall(coroutine.isyieldable)
  r.isyieldable_in_pcall = inpcall
  local ok, e = pcall(coroutine.yield, 1)
  r.yield_ok, r.yield_err = ok, e
  ok, e = pcall(function() coroutine.yield() end)
  r.yield_fn_ok, r.yield_fn_err = ok, e
  -- yielding inside a coroutine is fine
  r.wrapped = coroutine.wrap(function() coroutine.yield("inner") end)()
  r.wrapped_yieldable = coroutine.wrap(function() return coroutine.isyieldable() end)()
  -- stock Lua rule still applies inside coroutines: no yield across C calls
  ok, e = coroutine.wrap(function()
    return pcall(table.sort, {3, 2, 1}, function(a, b) coroutine.yield(); return a < b end)
  end)()
  r.cboundary_ok, r.cboundary_err = ok, e
  return r
end

local function verify(label, r)
  local msg = "attempt to yield from outside a coroutine"
  check(label .. ": isyieldable() is false", r.isyieldable == false)
  check(label .. ": isyieldable() is false inside pcall", r.isyieldable_in_pcall == false)
  check(label .. ": coroutine.yield raises", r.yield_ok == false
    and tostring(r.yield_err):find(msg, 1, true) ~= nil, r.yield_err)
  check(label .. ": coroutine.yield in a function raises", r.yield_fn_ok == false
    and tostring(r.yield_fn_err):find(msg, 1, true) ~= nil, r.yield_fn_err)
  check(label .. ": yield inside coroutine.wrap works", r.wrapped == "inner")
  check(label .. ": isyieldable() inside a coroutine is true", r.wrapped_yieldable == true)
  check(label .. ": yield across a C-call boundary still refused", r.cboundary_ok == false
    and tostring(r.cboundary_err):find("C-call boundary", 1, true) ~= nil, r.cboundary_err)
end

verify("main", toplevel_checks())

local res = chan()
go(function() res:send(toplevel_checks()) end)
verify("goroutine", res:recv())

-- the goroutine keeps running normally after its failed yield
go(function()
  pcall(coroutine.yield, "x")
  local c = chan(1)
  c:send("still alive")
  res:send((c:recv()))
end)
check("goroutine continues after a refused yield", res:recv() == "still alive")
print("done")
