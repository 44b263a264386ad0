-- lugo benchmark: context.WithCancel of a long-lived parent, then cancel
-- (the child is linked into the parent's children and taken out again).
-- usage: lugo -p P ctxcancel.lua [N=1000000]
local N = tonumber(arg and arg[1]) or 1000000
local parent, pcancel = context.WithCancel(context.Background())
local t0 = time.Now()
for _ = 1, N do
  local _, cancel = context.WithCancel(parent)
  cancel()
end
local dt = time.Now() - t0
assert(parent:Err() == nil)
pcancel()
print(string.format("ctxcancel %.2f ns/op", dt * 1e9 / N))
