-- context_errors: every error package context raises, through pcall (so
-- function names are the ones the package gives, not Lua's guesses).
local function try(f, ...)
  local ok, err = pcall(f, ...)
  print(ok, (tostring(err):gsub("^[^:]+:%d+: ", "")))
end
local bg = context.Background()
local ctx, cancel = context.WithCancel(bg)

-- parents that are not contexts
try(context.WithCancel)
try(context.WithCancel, nil)
try(context.WithCancel, {})
try(context.WithCancel, chan())
try(context.WithTimeout, "x", 1)
try(context.WithDeadline, sync.Mutex(), 1)
try(context.WithValue, 42, "k", "v")
-- the same when called directly (not through pcall's frame)
try(function() return context.WithCancel(nil) end)

-- durations and deadlines
try(context.WithTimeout, ctx, "x")
try(context.WithTimeout, ctx)
try(context.WithTimeout, ctx, {})
try(context.WithTimeout, ctx, 0 / 0)
try(context.WithDeadline, ctx, "soon")
try(context.WithDeadline, ctx)
try(context.WithDeadline, ctx, 0 / 0)
print("a numeric string is a number:", (context.WithTimeout(ctx, "60")):Err())

-- WithValue: keys and values
try(context.WithValue, ctx, {}, 1)
try(context.WithValue, ctx, nil, 1)
try(context.WithValue, ctx)
try(context.WithValue, ctx, print, 1)
try(context.WithValue, ctx, function() end, 1)
try(context.WithValue, ctx, coroutine.create(print), 1)
try(context.WithValue, ctx, 0 / 0, 1)
try(context.WithValue, ctx, io.stdout, 1)
try(context.WithValue, ctx, "k", coroutine.create(print))
try(context.WithValue, ctx, "k", {inner = {co = coroutine.create(print)}})
try(context.WithValue, ctx, "k", io.stdout)

-- Value
try(ctx.Value, ctx)
try(ctx.Value, ctx, nil)
try(ctx.Value, ctx, {})
try(ctx.Value, ctx, 0 / 0)
try(function() return ctx:Value() end)

-- methods on something else
try(ctx.Done, nil)
try(ctx.Done, chan())
try(ctx.Err, 1)
try(ctx.Value, sync.Mutex(), "k")
try(ctx.Deadline, {})
try(function() return ctx.Err() end)
-- the metatable is not for changing
try(setmetatable, ctx, {})
print(getmetatable(ctx))

-- nothing above left a context half made: the tree still works
cancel()
print(ctx:Err())
