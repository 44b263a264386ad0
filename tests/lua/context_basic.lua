-- context_basic: every function and method of package context in one
-- goroutine -- Background/TODO, WithCancel (idempotent cancel, a child of
-- a cancelled parent, a child's cancel leaves the parent alone),
-- WithTimeout/WithDeadline (a deadline in the past, the earlier deadline
-- wins, Deadline's values), WithValue (keys, the chain, copies), Err's
-- values, Done on Background, tostring.
local bg, todo = context.Background(), context.TODO()
print("roots:", bg, todo, bg == context.Background(), bg ~= todo)
print("Background Err, Deadline:", bg:Err(), bg:Deadline())
print("constants:", context.Canceled, "|", context.DeadlineExceeded)

-- Background's Done is a channel that never closes (Go: a nil channel)
local bd = bg:Done()
print("Background Done:", tostring(bd):match("^chan: ") ~= nil,
      bd == bg:Done(), bd:tryrecv())
print("select on it falls to default:",
      select { {recv = bg:Done()}, default = "default" })

-- WithCancel
local ctx, cancel = context.WithCancel(bg)
print(ctx, type(cancel), ctx:Err(), ctx:Deadline())
local done = ctx:Done()
print("Done is the same channel each time:", done == ctx:Done())
print("not ready before cancel:", select { {recv = done}, default = "default" })
cancel()
print("after cancel:", ctx:Err(), ctx:Err() == context.Canceled, done:recv())
cancel()
cancel()
print("idempotent:", ctx:Err())
print("Done asked after cancel is closed:", select { {recv = ctx:Done()} })

-- a child of a cancelled parent is cancelled at once
local c1 = context.WithCancel(ctx)
print("child of cancelled:", c1:Err(), c1:Done():recv())

-- a child's cancel leaves the parent (and siblings) alone
local p, pcancel = context.WithCancel(bg)
local a, acancel = context.WithCancel(p)
local b = context.WithCancel(p)
acancel()
print("child cancelled:", a:Err(), "parent:", p:Err(), "sibling:", b:Err())
pcancel()
print("parent cancelled:", p:Err(), "sibling now:", b:Err())

-- cancellation reaches every descendant, through values
local root, rootcancel = context.WithCancel(bg)
local v1 = context.WithValue(root, "k", 1)
local deep, deepcancel = context.WithCancel(context.WithValue(context.WithCancel(v1), "j", 2))
print("deep before:", deep:Err(), v1:Err())
rootcancel()
print("deep after:", deep:Err(), v1:Err(), v1:Done():recv())
deepcancel()  -- after the parent's: harmless
print("Err is stable:", deep:Err())

-- WithTimeout / WithDeadline
local before = time.Now()
local t1, t1cancel = context.WithTimeout(bg, 60)
local after = time.Now()
local d1, ok1 = t1:Deadline()
print("WithTimeout deadline:", ok1, d1 >= before + 60 and d1 <= after + 60, t1:Err())
t1cancel()
print("cancelled before its deadline:", t1:Err())

local at = time.Now() + 3600
local t2, t2cancel = context.WithDeadline(bg, at)
print("WithDeadline keeps t:", t2:Deadline() == at, select(2, t2:Deadline()))
-- a later deadline below it is just the parent's
local later, latercancel = context.WithDeadline(t2, at + 100)
print("later child:", later:Deadline() == at, tostring(later):match("WithCancel$") ~= nil)
-- an earlier one wins
local earlier = context.WithDeadline(t2, at - 100)
print("earlier child:", earlier:Deadline() == at - 100)
-- WithCancel and WithValue inherit the deadline
print("inherited:", context.WithCancel(t2):Deadline() == at,
      context.WithValue(t2, 1, 2):Deadline() == at)
t2cancel()
print("cancel reaches them:", later:Err(), earlier:Err())
latercancel()

-- a deadline in the past: cancelled at once, with the deadline's error
local past, pastcancel = context.WithDeadline(bg, time.Now() - 1)
print("past deadline:", past:Err(), past:Err() == context.DeadlineExceeded,
      past:Done():recv())
pastcancel()
print("cancel after expiry keeps the first error:", past:Err())
local zero = context.WithTimeout(bg, 0)
print("zero timeout:", zero:Err())
local neg = context.WithTimeout(bg, -5)
print("negative timeout:", neg:Err(), select(2, neg:Deadline()))

-- a short timeout fires on its own (select with a guard against a hang)
local short = context.WithTimeout(bg, 0.02)
print("short timeout:", select {
  {recv = short:Done(), function() return short:Err() end},
  {recv = time.After(60), function() return "FAILED: never fired" end},
})
-- its children hear it too, with the same error
local sp = context.WithTimeout(bg, 0.02)
local sc = context.WithCancel(context.WithValue(sp, "x", 1))
sc:Done():recv()
print("child of a timeout:", sc:Err())

-- WithValue: keys and the chain
local mu = sync.Mutex()
local vctx = context.WithValue(bg, "name", "lugo")
vctx = context.WithValue(vctx, 1, "one")
vctx = context.WithValue(vctx, true, "yes")
vctx = context.WithValue(vctx, mu, "the mutex")
vctx = context.WithValue(vctx, 2.5, {x = {1, 2}})
vctx = context.WithValue(vctx, "name", "shadowed")
print("values:", vctx:Value("name"), vctx:Value(1), vctx:Value(1.0),
      vctx:Value(true), vctx:Value(mu), vctx:Value(2.5).x[2])
print("absent:", vctx:Value("nope"), vctx:Value(false), vctx:Value(sync.Mutex()),
      vctx:Value(2))
local tv = vctx:Value(2.5)
tv.x[2] = 99
print("each Value is a copy:", vctx:Value(2.5).x[2], vctx:Value(2.5) ~= tv)
print("nil value:", context.WithValue(bg, "n", nil):Value("n"),
      context.WithValue(bg, "n"):Value("n"))
local long = ("k"):rep(40)
print("long string key:", context.WithValue(bg, long, 7):Value(("k"):rep(40)))
print("Value reaches past cancellable links:",
      context.WithCancel(context.WithTimeout(vctx, 60)):Value(true))
-- a context as a value (and as a key), stored in its own child
local selfish = context.WithValue(ctx, "parent", ctx)
print("context as a value:", selfish:Value("parent") == ctx,
      context.WithValue(ctx, ctx, 1):Value(ctx))
-- Err and Done of a WithValue are its parent's
local vp, vpcancel = context.WithCancel(bg)
local vc = context.WithValue(vp, "a", 1)
print("WithValue's Done is its parent's:", vc:Done() == vp:Done(), vc:Err())
vpcancel()
print("WithValue's Err:", vc:Err())
print("WithValue of Background never ends:", vctx:Err(), vctx:Done() == bg:Done())

-- names
print(context.WithValue(context.WithCancel(todo), "k", "v"))
print(context.WithValue(bg, 42, true))
print(context.WithValue(bg, mu, chan()))
print(context.WithValue(bg, 1.5, {}))
print(tostring(context.WithTimeout(bg, 60)):match("^context%.Background%.WithDeadline%(%d+%.%d+ %[%d+%.%d+s%]%)$") ~= nil)
