-- pairs after Wait: goroutines write distinct string keys (and distinct
-- fields of one nested table) concurrently, then main iterates with pairs
-- after wg:Wait. Different keys are different locations. No race.
local t = shared.table{nest = {}}
local wg = sync.WaitGroup()
for _, name in ipairs{"ann", "bob", "cyd", "dee"} do
  wg:Go(function()
    t[name] = #name
    t.nest[name] = name:upper()
  end)
end
wg:Wait()
local keys = {}
for k, v in pairs(t) do
  if k ~= "nest" then keys[#keys + 1] = k .. "=" .. v end
end
table.sort(keys)
local nk = {}
for k, v in pairs(t.nest) do nk[#nk + 1] = v end
table.sort(nk)
print(table.concat(keys, " "))
print(table.concat(nk, " "))
